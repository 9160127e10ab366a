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
            check_email(&email)?;
            return Err("OTP auth is not enabled for the _superusers collection (superuser otp needs OTP support)".into());
        }
    }
    Ok(())
}
