/// <reference path="../pb_data/types.d.ts" />
// Every night at 03:00 UTC: delete unpublished drafts older than 30 days.

cronAdd("cleanup_old_drafts", "0 3 * * *", () => {
  const cutoff = new Date(Date.now() - 30 * 24 * 3600 * 1000).toISOString().replace("T", " ");
  const drafts = $app.findRecordsByFilter("posts", "published = false && created < {:cutoff}", "", 500, 0, { cutoff });
  for (const d of drafts) $app.delete(d);
  console.log("cleanup_old_drafts: removed", drafts.length, "drafts");
});
