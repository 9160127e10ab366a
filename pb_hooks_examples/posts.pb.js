/// <reference path="../pb_data/types.d.ts" />
// Validation and enrichment of new posts created through the API.

onRecordCreateRequest((e) => {
  const title = e.record.getString("title").trim();
  if (title.length < 3) {
    throw new BadRequestError("Failed to create record.", {
      title: new ValidationError("validation_min_text_constraint", "Must be at least 3 character(s)."),
    });
  }
  // helpers must be defined inside the handler: PocketBase runs handlers in pooled VMs
  // that do not share the file's top-level scope
  const slug = title.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  e.record.set("title", title);
  e.record.set("slug", slug);
  e.record.set("likes", 0);
  // the author is always the caller (a guest cannot pick someone else)
  if (e.auth && e.auth.collection().name === "users") {
    e.record.set("author", e.auth.id);
  }
  return e.next();
}, "posts");
