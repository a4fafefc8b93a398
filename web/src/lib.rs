//! WebAssembly entry of pinlab. The eframe web runner and the JS API arrive
//! with the web issue; this crate exists so that the workspace layout is final.
