//! pinlab application library (GUI and CLI arrive with their issues).
