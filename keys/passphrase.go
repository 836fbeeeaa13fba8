package keys

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// KDF holds the Argon2id parameters and salt that turn a passphrase into the
// home's 32-byte encryption key. It is stored in plain text next to the
// encrypted store: none of it is secret.
type KDF struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
	Salt    []byte
}

// Implementation defaults (RFC 9106's second recommended option). Tests may
// lower them with SetKDFCostForTests; the chosen values are stored with the
// salt, so a home always opens with the parameters it was created with.
var defaultTime, defaultMemory uint32 = 3, 64 * 1024

// SetKDFCostForTests makes new KDFs cheap. Only test harnesses call it.
func SetKDFCostForTests() { defaultTime, defaultMemory = 1, 64 }

// NewKDF returns fresh parameters with a random 16-byte salt.
func NewKDF() (KDF, error) {
	k := KDF{Time: defaultTime, Memory: defaultMemory, Threads: 2, Salt: make([]byte, 16)}
	if _, err := rand.Read(k.Salt); err != nil {
		return KDF{}, fmt.Errorf("keys: salt: %w", err)
	}
	return k, nil
}

// Key derives the 32-byte (AES-256) storage key.
func (k KDF) Key(passphrase []byte) []byte {
	return argon2.IDKey(passphrase, k.Salt, k.Time, k.Memory, k.Threads, 32)
}

const kdfMagic = "n2n-kdf argon2id"

// MarshalText is one line: "n2n-kdf argon2id t=3 m=65536 p=2 salt=…".
func (k KDF) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "%s t=%d m=%d p=%d salt=%s\n", kdfMagic, k.Time, k.Memory, k.Threads,
		base64.RawStdEncoding.EncodeToString(k.Salt)), nil
}

// UnmarshalText parses MarshalText's form.
func (k *KDF) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	rest, ok := strings.CutPrefix(s, kdfMagic+" ")
	if !ok {
		return fmt.Errorf("keys: %w kdf file", ErrMalformed)
	}
	var salt string
	if _, err := fmt.Sscanf(rest, "t=%d m=%d p=%d salt=%s", &k.Time, &k.Memory, &k.Threads, &salt); err != nil {
		return fmt.Errorf("keys: %w kdf file: %v", ErrMalformed, err)
	}
	var err error
	if k.Salt, err = base64.RawStdEncoding.DecodeString(salt); err != nil || len(k.Salt) < 16 {
		return fmt.Errorf("keys: %w kdf file: bad salt", ErrMalformed)
	}
	if k.Time == 0 || k.Memory < 8 || k.Threads == 0 {
		return errors.New("keys: kdf file: parameters out of range")
	}
	return nil
}
