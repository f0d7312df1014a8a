package main

import (
	"net"
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
