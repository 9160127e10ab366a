/// <reference path="../pb_data/types.d.ts" />
// After a post was stored, mail its author. The post is already committed here, so a mail
// failure (e.g. no SMTP configured) is logged instead of failing the request.

onRecordAfterCreateSuccess((e) => {
  const authorId = e.record.getString("author");
  if (authorId) {
    const author = $app.findRecordById("users", authorId);
    const message = new MailerMessage({
      from: { address: $app.settings().meta.senderAddress, name: $app.settings().meta.senderName },
      to: [{ address: author.email() }],
      subject: "Your post was published: " + e.record.getString("title"),
      html: "<p>Thanks for writing <strong>" + e.record.getString("title") + "</strong>.</p>",
    });
    try {
      $app.newMailClient().send(message);
    } catch (err) {
      $app.logger().error("post notification not sent", "post", e.record.id, "error", String(err));
    }
  }
  return e.next();
}, "posts");
