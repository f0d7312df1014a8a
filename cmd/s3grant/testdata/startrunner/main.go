// Command startrunner runs one command line over and over for BenchmarkStartup and reports the
// peak resident memory of each run. It exists because a process started straight from the
// benchmark inherits the benchmark's own peak in ru_maxrss: Go starts children with
// vfork (CLONE_VM), and Linux records the old address space's high-water mark at exec. Started
// from this small process instead, each run's ru_maxrss is its own.
//
// Protocol: for every line read on stdin it runs os.Args[1:] once and writes one line
// "EXITCODE MAXRSS_KIB STDOUT_BYTES QUOTED_STDERR" to stdout.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: startrunner COMMAND [ARG...]")
		os.Exit(2)
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var n counter
		var stderr bytes.Buffer
		cmd := exec.Command(os.Args[1], os.Args[2:]...)
		cmd.Stdout, cmd.Stderr = &n, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			fmt.Fprintln(os.Stderr, "startrunner:", err)
			os.Exit(1)
		}
		var rss int64
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss // kilobytes on Linux
		}
		fmt.Printf("%d %d %d %q\n", cmd.ProcessState.ExitCode(), rss, n, stderr.String())
	}
	if err := in.Err(); err != nil && !errors.Is(err, io.EOF) {
		os.Exit(1)
	}
}
