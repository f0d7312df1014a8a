package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path/filepath"
	"strconv"

	"github.com/isahit/s3grant/internal/rules"
)

// checkListenAddr checks a HOST:PORT to listen on before anything is built: a port is 0-65535.
func checkListenAddr(flag, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return rules.Invalid(flag, addr, "must be HOST:PORT, e.g. 127.0.0.1:8080")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return rules.Invalid(flag, addr, "the port must be a number from 0 to 65535, e.g. 127.0.0.1:8080")
	}
	return nil
}

// fileError explains why the file a flag names cannot be written, naming that file and not
// the temporary file written first: a missing directory or a refused one is bad input.
func fileError(flag, path string, err error) error {
	dir := filepath.Dir(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return rules.Invalid(flag, path, fmt.Sprintf("cannot write %s: the directory %s does not exist", path, dir))
	case errors.Is(err, fs.ErrPermission):
		return rules.Invalid(flag, path, fmt.Sprintf("cannot write %s: no permission to create files in %s", path, dir))
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("cannot write %s: %w", path, err)
}
