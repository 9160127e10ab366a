pub mod collection;
pub mod field;
pub mod options;

pub use collection::{Collection, CollectionType, RuleKind};
pub use field::{Field, FieldType};
