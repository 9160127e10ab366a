//! Rust bindings of `wit/plugin.wit` (world `pocketbun:plugin/plugin`), async on both
//! sides: host imports await the core (database), exports are called with `call_async`
//! so a long-running plugin yields to tokio at every epoch tick.

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../../wit",
    imports: {
        // `sleep` past the call's time limit traps, like the epoch callback does
        "pocketbun:plugin/timer.sleep": async | trappable,
        default: async,
    },
    exports: { default: async },
});

pub use exports::pocketbun::plugin::guest;
pub use pocketbun::plugin::types;
