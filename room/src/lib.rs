//! The live class, without I/O: what lecturer and students say to the server
//! ([`protocol`]), and the rooms the server keeps ([`hub`]). The server
//! (`pinlab serve`) owns the sockets, the clock and the entropy and passes
//! them in, so every rule here is a plain function with a test.

pub mod code;
pub mod hub;
pub mod limits;
pub mod protocol;
pub mod room;

pub use hub::{ConnId, Delivery, Hub, Inputs, To};
pub use protocol::{ClientMsg, Phase, Position, Question, ServerMsg, Tally};
