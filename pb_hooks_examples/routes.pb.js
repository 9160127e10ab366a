/// <reference path="../pb_data/types.d.ts" />
// Custom routes that need an authenticated user.

// GET /api/myapp/my-posts: the caller's posts, newest first (users only).
routerAdd("GET", "/api/myapp/my-posts", (e) => {
  const posts = $app.findRecordsByFilter("posts", "author = {:me}", "-created", 50, 0, { me: e.auth.id });
  return e.json(200, { items: posts.map((p) => ({ id: p.id, title: p.getString("title"), slug: p.getString("slug"), likes: p.getInt("likes") })) });
}, $apis.requireAuth("users"));

// POST /api/myapp/posts/{id}/like: any signed-in user may like a published post once per
// request; the counter is updated with the app's rights (no update rule needed).
routerAdd("POST", "/api/myapp/posts/{id}/like", (e) => {
  const post = $app.findRecordById("posts", e.request.pathValue("id"));
  if (!post.getBool("published")) {
    throw new NotFoundError("The post is not published.");
  }
  post.set("likes", post.getInt("likes") + 1);
  $app.save(post);
  return e.json(200, { id: post.id, likes: post.getInt("likes") });
}, $apis.requireAuth("users"));
