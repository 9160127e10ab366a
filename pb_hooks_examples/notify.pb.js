/// <reference path="../pb_data/types.d.ts" />
// After a post was stored, mail its author. Uses onRecordAfterCreateSuccess and
// $app.newMailClient(), which PocketBun does not provide yet (see README.md): the file
// loads, the hook is registered, and it runs once they land.

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
    $app.newMailClient().send(message);
  }
  return e.next();
}, "posts");
