"""HTTP surface: the app factories and one router per protocol."""
