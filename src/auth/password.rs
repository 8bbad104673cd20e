//! Passwords (SPEC §7): 8–128 characters, kept only as argon2id hashes (PHC strings, each with
//! its own salt), checked in constant time by the argon2 crate.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::AppError;

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// A password that meets the rules, not yet hashed. Its `Debug` never shows it.
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    /// Checks the length rules for `field`.
    pub fn parse(field: &str, text: &str) -> Result<Password, AppError> {
        let chars = text.chars().count();
        if !(MIN_CHARS..=MAX_CHARS).contains(&chars) {
            return Err(AppError::validation(
                field,
                tr!(errors.value.chars_between, min = MIN_CHARS, max = MAX_CHARS),
            ));
        }
        Ok(Password(text.to_string()))
    }

    /// The argon2id hash to store (default parameters: 19 MiB, 2 passes).
    pub fn hash(&self) -> Result<String, AppError> {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(self.0.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| AppError::internal(&std::io::Error::other(e.to_string())))
    }
}

/// Whether `password` is the one `stored` (a PHC string) was made from; a malformed hash is
/// never a match.
pub fn verify(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_password() {
        let hash = Password::parse("password", "correct horse")
            .unwrap()
            .hash()
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(verify(&hash, "correct horse"));
        assert!(!verify(&hash, "correct horse "));
        assert!(!verify("not a hash", "correct horse"));
        let again = Password::parse("password", "correct horse")
            .unwrap()
            .hash()
            .unwrap();
        assert_ne!(hash, again, "each hash has its own salt");
    }

    #[test]
    fn passwords_are_8_to_128_characters() {
        assert!(Password::parse("password", "1234567").is_err());
        assert!(Password::parse("password", "12345678").is_ok());
        assert!(Password::parse("password", &"密".repeat(128)).is_ok());
        assert!(Password::parse("password", &"x".repeat(129)).is_err());
        let shown = format!("{:?}", Password::parse("password", "secret-words").unwrap());
        assert!(!shown.contains("secret"));
    }
}
