//! Command line, mirroring PocketBase's flags and defaults.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "pocketbun", version = concat!("version ", env!("CARGO_PKG_VERSION")), about = "PocketBun CLI", disable_version_flag = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// print the version
    #[arg(short = 'v', long = "version", global = true)]
    pub version: bool,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalFlags {
    /// the PocketBun data directory
    #[arg(long = "dir", default_value = "pb_data", global = true)]
    pub dir: PathBuf,
    /// enable dev mode, aka. printing logs and sql statements to the console
    #[arg(long = "dev", global = true)]
    pub dev: bool,
    /// the env variable whose value of 32 characters will be used as encryption key for the app settings
    #[arg(long = "encryptionEnv", default_value = "", global = true)]
    pub encryption_env: String,
    /// the default SELECT queries timeout in seconds
    #[arg(long = "queryTimeout", default_value_t = 30, global = true)]
    pub query_timeout: u64,
    /// the directory with the JS app hooks
    #[arg(long = "hooksDir", global = true)]
    pub hooks_dir: Option<PathBuf>,
    /// auto restart the app on pb_hooks file change
    #[arg(long = "hooksWatch", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub hooks_watch: bool,
    /// the total prewarm goja.Runtime instances for the JS app hooks execution
    #[arg(long = "hooksPool", default_value_t = 15, global = true)]
    pub hooks_pool: u32,
    /// the directory with the user defined migrations
    #[arg(long = "migrationsDir", global = true)]
    pub migrations_dir: Option<PathBuf>,
    /// enable/disable auto migrations
    #[arg(long = "automigrate", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub automigrate: bool,
    /// the directory to serve static files
    #[arg(long = "publicDir", global = true)]
    pub public_dir: Option<PathBuf>,
    /// fallback the request to index.html on missing static path, e.g. when pretty urls are used with SPA
    #[arg(long = "indexFallback", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub index_fallback: bool,
    /// the directory with the Wasm plugins
    #[arg(long = "pluginsDir", global = true)]
    pub plugins_dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Starts the web server (default to 127.0.0.1:8090 if no domain is specified)
    Serve(ServeArgs),
    /// Executes app DB migration scripts
    #[command(long_about = MIGRATE_HELP)]
    Migrate {
        /// up | down [number] | create name | collections | history-sync
        args: Vec<String>,
    },
    /// Manage superusers
    Superuser {
        #[command(subcommand)]
        action: SuperuserCommand,
    },
}

const MIGRATE_HELP: &str = "Supported arguments are:
- up            - runs all available migrations
- down [number] - reverts the last [number] applied migrations
- create name   - creates new blank migration template file
- collections   - creates new migration file with snapshot of the local collections configuration
- history-sync  - ensures that the _migrations history table doesn't have references to deleted migration files";

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// optional domain(s) (TLS via ACME is not supported yet)
    pub domains: Vec<String>,
    /// TCP address to listen for the HTTP server
    #[arg(long = "http", default_value = "")]
    pub http: String,
    /// TCP address to listen for the HTTPS server
    #[arg(long = "https", default_value = "")]
    pub https: String,
    /// CORS allowed domain origins list
    #[arg(long = "origins", default_value = "*", value_delimiter = ',')]
    pub origins: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum SuperuserCommand {
    /// Creates a new superuser
    Create { email: String, password: String },
    /// Creates, or updates if email exists, a single superuser
    Upsert { email: String, password: String },
    /// Changes the password of a single superuser
    Update { email: String, password: String },
    /// Deletes an existing superuser
    Delete { email: String },
    /// Creates a new OTP for the specified superuser
    Otp { email: String },
}

impl GlobalFlags {
    pub fn public_dir(&self) -> PathBuf {
        self.public_dir.clone().unwrap_or_else(|| PathBuf::from("pb_public"))
    }
}
