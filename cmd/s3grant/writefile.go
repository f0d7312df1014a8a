package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/isahit/s3grant/internal/rules"
)

// newFileMode is the mode of a file s3grant creates, less the user's umask: a template or
// guide is not a secret, and other tools (and colleagues) read it.
const newFileMode = 0o644

// writeFileAtomic writes data to path, named by flag in errors, through a temporary file in the
// same directory, so a failure never leaves a half-written file behind. A new file gets
// newFileMode less the umask; an existing one keeps its mode, and a symbolic link keeps
// pointing where it did (its target is replaced). Errors name path or its directory, never the
// temporary file; a missing directory is bad input.
func writeFileAtomic(flag, path string, data []byte) error {
	target := path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		target = real
	}
	dir := filepath.Dir(target)
	var keepMode os.FileMode
	keep := false
	switch fi, err := os.Stat(target); {
	case err == nil && !fi.Mode().IsRegular():
		return rules.Invalid(flag, path, "is not a regular file")
	case err == nil:
		keepMode, keep = fi.Mode().Perm(), true
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("write %s: %w", path, underlying(err))
	default:
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return rules.Invalid(flag, path, fmt.Sprintf("cannot write %s: the directory %s does not exist", path, dir))
		}
	}
	tmp, err := createTemp(dir, filepath.Base(target))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, underlying(err))
	}
	name := tmp.Name()
	defer os.Remove(name) // after a successful rename there is nothing left to remove
	if keep {
		err = tmp.Chmod(keepMode)
	}
	if err == nil {
		_, err = tmp.Write(data)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, target)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, underlying(err))
	}
	return nil
}

// createTemp creates a new hidden file next to base in dir with newFileMode, which the
// operating system reduces by the umask (os.CreateTemp would make it 0600).
func createTemp(dir, base string) (*os.File, error) {
	for range 10 {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(filepath.Join(dir, "."+base+"."+hex.EncodeToString(b[:])), os.O_WRONLY|os.O_CREATE|os.O_EXCL, newFileMode)
		if !errors.Is(err, os.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("cannot create a temporary file in %s", dir)
}

// underlying is the operating system's reason inside a path error, without the path, which
// may be the temporary file's.
func underlying(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
