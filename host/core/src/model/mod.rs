pub mod collection;
pub mod field;

pub use collection::{Collection, CollectionType, RuleKind};
pub use field::{Field, FieldType};
