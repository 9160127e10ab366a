//! `pocketbun migrate up | down [N] | create NAME | collections | history-sync`, with
//! PocketBase's prompts (on stderr; anything but y/yes cancels) and messages.

use pocketbun_core::files::names::snakecase;
use pocketbun_core::migrations::templates;
use std::io::{BufRead, Write};

use crate::cli::GlobalFlags;
use crate::migrations::{migrations_dir, Runner};

/// PocketBase's `osutils.YesNoPrompt` with a "no" fallback.
fn confirm(message: &str) -> bool {
    loop {
        eprint!("{message} (y/N) ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line).unwrap_or(0) == 0 {
            return false;
        }
        match line.trim().to_lowercase().as_str() {
            "" | "n" | "no" => return false,
            "y" | "yes" => return true,
            _ => {}
        }
    }
}

fn green(s: &str) {
    println!("{s}");
}

pub fn run(g: &GlobalFlags, args: Vec<String>) -> Result<(), String> {
    let app = super::bootstrap(g)?;
    let cmd = args.first().map(String::as_str).unwrap_or("up");
    match cmd {
        "create" => create(g, &args[1..], templates::js_blank()),
        "collections" => {
            let schema = app.schema();
            let mut list: Vec<_> = schema.collections.iter().map(|c| c.as_ref()).collect();
            list.sort_by(|a, b| a.created.cmp(&b.created));
            let mut create_args = vec!["collections_snapshot".to_string()];
            create_args.extend(args[1..].iter().cloned());
            create(g, &create_args, templates::js_snapshot(&list))
        }
        "up" | "down" | "history-sync" => {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut runner = Runner::load(g, &app).await?;
                match cmd {
                    "up" => {
                        let applied = runner.up().await?;
                        if applied.is_empty() {
                            green("No new migrations to apply.");
                        }
                        for f in applied {
                            green(&format!("Applied {f}"));
                        }
                    }
                    "down" => {
                        let count = match args.get(1) {
                            None => 1,
                            // cast.ToInt: anything unparsable is 0; negative means all
                            Some(n) => match n.trim().parse::<i64>().unwrap_or(0) {
                                n if n < 0 => runner.files().len() + pocketbun_core::store::init::SYSTEM_MIGRATIONS.len(),
                                n => n as usize,
                            },
                        };
                        let names = runner.last_applied(count).await?;
                        let question = format!("\n{}\nDo you really want to revert the last {count} applied migration(s)?", names.join("\n"));
                        if !confirm(&question) {
                            println!("The command has been cancelled");
                            return Ok(());
                        }
                        let reverted = runner.down(count).await?;
                        if reverted.is_empty() {
                            green("No migrations to revert.");
                        }
                        for f in reverted {
                            green(&format!("Reverted {f}"));
                        }
                    }
                    _ => {
                        runner.history_sync().await?;
                        green("The _migrations table was synced with the available migrations.");
                    }
                }
                Ok(())
            })
        }
        other => Err(format!("unsupported command: {other:?}")),
    }
}

/// Writes `<unix>_<snake name>.js` after confirmation.
fn create(g: &GlobalFlags, args: &[String], template: String) -> Result<(), String> {
    let Some(name) = args.first() else { return Err("missing migration file name".into()) };
    let dir = migrations_dir(g);
    let filename = format!("{}_{}.js", chrono::Utc::now().timestamp(), snakecase(name));
    let path = dir.join(&filename);
    if !confirm(&format!("Do you really want to create migration {:?}?", path.display().to_string())) {
        println!("The command has been cancelled");
        return Ok(());
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(&path, template).map_err(|e| format!("failed to save migration file {:?}: {e}", path.display().to_string()))?;
    println!("Successfully created file {:?}", path.display().to_string());
    Ok(())
}
