package keys

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// MinSecretLen is the shortest master secret accepted, in bytes.
const MinSecretLen = 16

// MasterSecret returns the master secret that encrypts signing keys:
// secret (LATCH_SECRET) when it is non-empty, else the trimmed contents of the
// file at path. When the file does not exist and create is true (latch dev),
// it is created with 32 random bytes, hex-encoded, mode 0600; the directory
// must already exist. An existing file that group or others may read is
// refused, as is a secret shorter than MinSecretLen.
func MasterSecret(secret, path string, create bool) ([]byte, error) {
	if s := strings.TrimSpace(secret); s != "" {
		if len(s) < MinSecretLen {
			return nil, fmt.Errorf("LATCH_SECRET is too short: %d bytes, need at least %d", len(s), MinSecretLen)
		}
		return []byte(s), nil
	}
	if path == "" {
		return nil, errors.New("no master secret: set LATCH_SECRET or secret_file")
	}
	b, err := readSecretFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		b, err = createSecretFile(path)
		if err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("no master secret: set LATCH_SECRET or secret_file (%s does not exist)", path)
	case err != nil:
		return nil, err
	}
	s := strings.TrimSpace(string(b))
	if len(s) < MinSecretLen {
		return nil, fmt.Errorf("secret file %s is too short: %d bytes, need at least %d", path, len(s), MinSecretLen)
	}
	return []byte(s), nil
}

// readSecretFile reads path, refusing a file with group or other permission
// bits: the secret decrypts every signing key.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("secret file %s is a directory", path)
	}
	// Windows has no Unix permission bits worth checking.
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("secret file %s is accessible by group or others (mode %04o): run chmod 600 %s", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	return b, nil
}

// createSecretFile writes a fresh secret with O_EXCL so two dev instances
// starting at once cannot overwrite each other's secret; the loser reads the
// winner's file.
func createSecretFile(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("create secret file %s: directory %s does not exist", path, dir)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("create secret file: %w", err)
	}
	s := []byte(hex.EncodeToString(raw) + "\n")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process is creating it; give it a moment to finish writing.
		for range 20 {
			b, err := readSecretFile(path)
			if err != nil || len(strings.TrimSpace(string(b))) >= MinSecretLen {
				return b, err
			}
			time.Sleep(50 * time.Millisecond)
		}
		return readSecretFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("create secret file: %w", err)
	}
	if _, err := f.Write(s); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create secret file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create secret file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("create secret file: %w", err)
	}
	return s, nil
}
