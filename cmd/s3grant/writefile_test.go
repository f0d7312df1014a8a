package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// withUmask runs the test under umask mask (the process's, so these tests never run in parallel).
func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func TestTemplateFileMode(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		umask    int
		existing os.FileMode // 0: no file yet
		want     os.FileMode
	}{
		{"new file", 0o022, 0, 0o644},
		{"new file, stricter umask", 0o027, 0, 0o640},
		{"existing 0600 stays 0600", 0o022, 0o600, 0o600},
		{"existing 0664 stays 0664", 0o022, 0o664, 0o664},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withUmask(t, tc.umask)
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if tc.existing != 0 {
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.existing); err != nil {
					t.Fatal(err)
				}
			}
			if code, _, errOut := runCLI(t, "", "template", "-o", "yaml", "--file", path); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if got := fileMode(t, path); got != tc.want {
				t.Errorf("mode %v, want %v", got, tc.want)
			}
			if b, _ := os.ReadFile(path); !strings.HasPrefix(string(b), "AWSTemplateFormatVersion") {
				t.Errorf("the file is not the YAML template: %.40q", b)
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestTemplateFileThroughSymlinkKeepsTheLink(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "real.json"), filepath.Join(dir, "link.json")
	if err := os.WriteFile(target, []byte("{}"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "", "template", "--file", link); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced: %v", err)
	}
	if b, _ := os.ReadFile(target); len(b) < 100 || fileMode(t, target) != 0o640 {
		t.Errorf("the link's target holds %d bytes, mode %v", len(b), fileMode(t, target))
	}
}

func TestTemplateFileErrorsNameTheTarget(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-dir")
	code, out, errOut := runCLI(t, "", "template", "--file", filepath.Join(missing, "integration.json"))
	wantBadInput(t, code, out, errOut, "--file")
	if !strings.Contains(errOut, "directory "+missing+" does not exist") || strings.Contains(errOut, ".integration.json.") {
		t.Errorf("stderr %q should name the missing directory %s and no temporary file", errOut, missing)
	}
	code, out, errOut = runCLI(t, "", "template", "--file", dir)
	wantBadInput(t, code, out, errOut, "is not a regular file")
}
