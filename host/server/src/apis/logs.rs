//! `/api/logs*` (superusers only).

use axum::extract::Path;
use pocketbun_core::logs;

use super::{list_envelope, Paging};
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::json::{json_picked, no_content};

pub async fn list(ctx: Ctx) -> HttpResult {
    ctx.require_superuser()?;
    let p = Paging::from_query(&ctx.query)?;
    let page = logs::list(&ctx.app.aux, ctx.query.str("filter"), ctx.query.str("sort"), p.page, p.per_page, p.skip_total).await?;
    json_picked(ctx.fields(), list_envelope(page.items, page.page, page.per_page, page.total_items, page.total_pages), true)
}

pub async fn view(ctx: Ctx, Path(id): Path<String>) -> HttpResult {
    ctx.require_superuser()?;
    json_picked(ctx.fields(), logs::view(&ctx.app.aux, id).await?, false)
}

pub async fn stats(ctx: Ctx) -> HttpResult {
    ctx.require_superuser()?;
    json_picked(ctx.fields(), logs::stats(&ctx.app.aux, ctx.query.str("filter")).await?, false)
}

pub async fn delete_all(ctx: Ctx) -> HttpResult {
    ctx.require_superuser()?;
    logs::delete_all(&ctx.app.aux).await?;
    Ok(no_content())
}
