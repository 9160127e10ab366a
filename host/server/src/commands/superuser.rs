//! `pocketbun superuser create|upsert|update|delete|otp`.

use pocketbun_core::superusers;

use crate::cli::{GlobalFlags, SuperuserCommand};

fn check_email(email: &str) -> Result<(), String> {
    if pocketbun_core::validate::is_email(email) {
        Ok(())
    } else {
        Err("missing or invalid email address".into())
    }
}

pub fn run(g: &GlobalFlags, cmd: SuperuserCommand) -> Result<(), String> {
    let app = super::bootstrap(g)?;
    match cmd {
        SuperuserCommand::Create { email, password } => {
            check_email(&email)?;
            superusers::create(&app, &email, &password)?;
            println!("Successfully created new superuser {email:?}!");
        }
        SuperuserCommand::Upsert { email, password } => {
            check_email(&email)?;
            superusers::upsert(&app, &email, &password)?;
            println!("Successfully saved superuser {email:?}!");
        }
        SuperuserCommand::Update { email, password } => {
            check_email(&email)?;
            superusers::update_password(&app, &email, &password)?;
            println!("Successfully changed superuser {email:?} password!");
        }
        SuperuserCommand::Delete { email } => {
            check_email(&email)?;
            if superusers::delete(&app, &email)? {
                println!("Successfully deleted superuser {email:?}!");
            } else {
                eprintln!("Warning: superuser {email:?} is missing, nothing to delete");
            }
        }
        SuperuserCommand::Otp { email } => {
            if !pocketbun_core::validate::is_email(&email) {
                return Err("invalid or missing email address".into());
            }
            let su = superusers::find_by_email(&app, &email)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("superuser with email {email:?} doesn't exist"))?;
            let c = su.collection.clone();
            if c.option("otp", "enabled").as_bool() != Some(true) {
                return Err("OTP auth is not enabled for the _superusers collection".into());
            }
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            let (id, pass) = rt
                .block_on(pocketbun_core::auth::otp::create_for_record(&app, &su))
                .map_err(|e| format!("failed to create OTP: {e}"))?;
            println!("Successfully created OTP for superuser {:?}:", su.get_str("email"));
            println!("├─ Id:    {id}");
            println!("├─ Pass:  {pass}");
            println!("└─ Valid: {}s\n", c.option("otp", "duration").as_i64().unwrap_or(180));
        }
    }
    Ok(())
}
