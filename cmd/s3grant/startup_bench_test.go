package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkStartup measures what a user waits for: a whole s3grant process, from exec to exit,
// including the runtime's and every package's init. It builds the binary once per run and
// reports, besides ns/op, the peak resident memory of one process (maxrss-MiB).
// A command must pay only for the work it does: `template` renders no guide and calls no AWS,
// and refusing a bad --bucket should cost no more than starting.
//
// The processes are started by testdata/startrunner, a small process of its own, so that
// their ru_maxrss is not the benchmark's (see that command's comment).
func BenchmarkStartup(b *testing.B) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Skip("the go tool is not on PATH: cannot build the binary")
	}
	dir := b.TempDir()
	bin, runner := filepath.Join(dir, "s3grant"), filepath.Join(dir, "startrunner")
	for _, build := range [][]string{{"-o", bin, "."}, {"-o", runner, "./testdata/startrunner"}} {
		if out, err := exec.Command(goTool, append([]string{"build"}, build...)...).CombinedOutput(); err != nil {
			b.Fatalf("go build %v: %v\n%s", build, err, out)
		}
	}
	cases := []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"template", []string{"template", "--bucket", "my-bucket", "--external-id", exampleID}, 0},
		{"bad-bucket", []string{"template", "--bucket", "My_Bucket", "--external-id", exampleID}, 2},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cmd := exec.Command(runner, append([]string{bin}, c.args...)...)
			cmd.Dir = b.TempDir()
			cmd.Stderr = os.Stderr
			toRunner, err := cmd.StdinPipe()
			if err != nil {
				b.Fatal(err)
			}
			fromRunner, err := cmd.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() { toRunner.Close(); cmd.Wait() }()
			replies := bufio.NewScanner(fromRunner)
			var rssKiB int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := fmt.Fprintln(toRunner, "run"); err != nil {
					b.Fatal(err)
				}
				if !replies.Scan() {
					b.Fatalf("startrunner stopped: %v", replies.Err())
				}
				var code int
				var rss, printed int64
				var stderr string
				n, err := fmt.Sscanf(replies.Text(), "%d %d %d %q", &code, &rss, &printed, &stderr)
				if err != nil || n != 4 {
					b.Fatalf("startrunner replied %q: %v", replies.Text(), err)
				}
				if code != c.wantCode {
					b.Fatalf("exit %d, want %d; stderr: %s", code, c.wantCode, stderr)
				}
				if c.wantCode == 0 && printed == 0 {
					b.Fatal("the template command printed nothing")
				}
				rssKiB += rss
			}
			b.StopTimer()
			b.ReportMetric(float64(rssKiB)/float64(b.N)/1024, "maxrss-MiB")
		})
	}
}
