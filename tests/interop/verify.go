// verify.go - an independent verifier for hitlq's audit-log artifacts,
// written against Go's golang.org/x/mod/sumdb/note and sumdb/tlog only
// (docs/RELIABILITY.md §4.3 item 6; proto/AUDIT-FORMAT.md).  It shares no code with
// hitlq: if hitlq's checkpoints, signatures or proofs drift from C2SP /
// RFC 6962, this program rejects them.
//
// Build (Debian 12: golang-go, golang-golang-x-mod-dev; offline, GOPATH mode,
// nothing vendored):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$PWD/build/test/gocache \
//	    go build -o build/test/interop-verify tests/interop/verify.go
//
// (tests/lib/interop_go.c runs exactly this when the binary is missing or
// older than this file.)
//
// Usage (every FILE is read byte for byte; VKEYS is one vkey
// "<name>+<hex id>+<base64>", or "@path" naming a file with one vkey per
// line; EVERY listed key must have a valid signature on the note, so a
// dual-signed checkpoint is checked by listing both keys):
//
//	interop-verify [-origin O] checkpoint VKEYS CHECKPOINT_FILE
//	    Verifies the signed note and parses the C2SP checkpoint body.
//	interop-verify [-origin O] receipt VKEYS TLOG_PROOF_FILE LEAF_FILE
//	    Verifies a c2sp.org/tlog-proof@v1 file: its checkpoint as above,
//	    then tlog.CheckRecord(proof, size, root, index, RecordHash(leaf)).
//	    If the leaf starts with "AXR1" its index field (bytes 5..12, u64 BE)
//	    must equal the proof's index (auditor procedure A step 4).
//	interop-verify [-origin O] consistency VKEYS OLD_CHECKPOINT NEW_CHECKPOINT PROOF_FILE
//	    Verifies both checkpoints, then tlog.CheckTree(proof, new size,
//	    new root, old size, old root).  PROOF_FILE: base64 hashes, one per
//	    line (empty file when the sizes are equal).  Old size 0 is accepted
//	    only with the empty-tree root SHA-256("") (RFC 9162: every tree is
//	    consistent with the empty one).
//	interop-verify sign SKEY_FILE TEXT_FILE
//	    Reverse direction: signs TEXT_FILE (note text, ending in '\n') with
//	    the Go-format private key in SKEY_FILE ("PRIVATE+KEY+..."), writes
//	    the signed note to stdout.
//	interop-verify genkey NAME
//	    Prints a fresh Go-generated private key and its vkey, one per line.
//
// -origin: the checkpoint's origin line must equal O.  Default: it must
// equal the name of the first vkey (hitlq: the log key name is the origin).
// -origin '*' accepts any origin.
//
// Checkpoint bodies are parsed strictly as hitlq writes them: exactly three
// lines (origin, decimal size without leading zeros, canonical base64 of
// 32 bytes), no extension lines (tlog.ParseTree cannot be used: it
// insists on Go sumdb's "go.sum database tree" first line).
//
// Exit status 0 and "OK ..." on stdout on success; 1 with "FAIL: reason" on
// stderr on any verification failure; 2 on usage errors.
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var originFlag = flag.String("origin", "", "required checkpoint origin (default: first vkey's name; '*' = any)")

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: interop-verify [-origin O] checkpoint VKEYS FILE\n"+
		"       interop-verify [-origin O] receipt VKEYS TLOG_PROOF_FILE LEAF_FILE\n"+
		"       interop-verify [-origin O] consistency VKEYS OLD NEW PROOF_FILE\n"+
		"       interop-verify sign SKEY_FILE TEXT_FILE\n"+
		"       interop-verify genkey NAME")
	os.Exit(2)
}

func readFile(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		os.Exit(2)
	}
	return b
}

// loadVerifiers parses VKEYS (a vkey or @file of vkeys) with note.NewVerifier.
func loadVerifiers(arg string) ([]note.Verifier, error) {
	var lines []string
	if strings.HasPrefix(arg, "@") {
		for _, l := range strings.Split(string(readFile(arg[1:])), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
	} else {
		lines = []string{arg}
	}
	if len(lines) == 0 {
		return nil, errors.New("no vkeys given")
	}
	var vs []note.Verifier
	for _, l := range lines {
		v, err := note.NewVerifier(l)
		if err != nil {
			return nil, fmt.Errorf("vkey %q: %v", l, err)
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// parseCheckpointBody parses "<origin>\n<size>\n<base64 root>\n" strictly.
func parseCheckpointBody(text string) (checkpoint, error) {
	var cp checkpoint
	if !strings.HasSuffix(text, "\n") {
		return cp, errors.New("checkpoint text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 3 {
		return cp, fmt.Errorf("checkpoint body has %d lines, want 3 (no extension lines)", len(lines))
	}
	if lines[0] == "" {
		return cp, errors.New("empty origin")
	}
	cp.origin = lines[0]
	s := lines[1]
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return cp, fmt.Errorf("bad tree size %q", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return cp, fmt.Errorf("bad tree size %q: %v", s, err)
	}
	cp.size = n
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize || base64.StdEncoding.EncodeToString(raw) != lines[2] {
		return cp, fmt.Errorf("bad root hash %q", lines[2])
	}
	copy(cp.root[:], raw)
	return cp, nil
}

// openCheckpoint verifies the signed note with every verifier and parses it.
func openCheckpoint(msg []byte, vs []note.Verifier) (checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(vs...))
	if err != nil {
		return checkpoint{}, fmt.Errorf("note.Open: %v", err)
	}
	for _, v := range vs {
		found := false
		for _, s := range n.Sigs {
			if s.Name == v.Name() && s.Hash == v.KeyHash() {
				found = true
			}
		}
		if !found {
			return checkpoint{}, fmt.Errorf("no valid signature by %s+%08x", v.Name(), v.KeyHash())
		}
	}
	cp, err := parseCheckpointBody(n.Text)
	if err != nil {
		return cp, err
	}
	want := *originFlag
	if want == "" {
		want = vs[0].Name()
	}
	if want != "*" && cp.origin != want {
		return cp, fmt.Errorf("origin %q, want %q", cp.origin, want)
	}
	return cp, nil
}

func parseHashLine(l string) (tlog.Hash, error) {
	var h tlog.Hash
	raw, err := base64.StdEncoding.DecodeString(l)
	if err != nil || len(raw) != tlog.HashSize || base64.StdEncoding.EncodeToString(raw) != l {
		return h, fmt.Errorf("bad proof hash line %q", l)
	}
	copy(h[:], raw)
	return h, nil
}

// parseTlogProof splits a c2sp.org/tlog-proof@v1 file.
func parseTlogProof(b []byte) (index int64, proof tlog.RecordProof, cpmsg []byte, err error) {
	sep := bytes.Index(b, []byte("\n\n"))
	if sep < 0 {
		return 0, nil, nil, errors.New("tlog-proof: no blank line before the checkpoint")
	}
	head, cpmsg := string(b[:sep]), b[sep+2:]
	lines := strings.Split(head, "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" {
		return 0, nil, nil, fmt.Errorf("tlog-proof: first line %q", lines[0])
	}
	i := 1
	if i < len(lines) && strings.HasPrefix(lines[i], "extra ") {
		if _, err := base64.StdEncoding.DecodeString(lines[i][6:]); err != nil {
			return 0, nil, nil, fmt.Errorf("tlog-proof: bad extra line: %v", err)
		}
		i++
	}
	if i >= len(lines) || !strings.HasPrefix(lines[i], "index ") {
		return 0, nil, nil, errors.New("tlog-proof: missing index line")
	}
	s := lines[i][6:]
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, nil, nil, fmt.Errorf("tlog-proof: bad index %q", s)
	}
	if index, err = strconv.ParseInt(s, 10, 64); err != nil {
		return 0, nil, nil, fmt.Errorf("tlog-proof: bad index %q", s)
	}
	for _, l := range lines[i+1:] {
		h, err := parseHashLine(l)
		if err != nil {
			return 0, nil, nil, err
		}
		proof = append(proof, h)
	}
	return index, proof, cpmsg, nil
}

func cmdCheckpoint(args []string) {
	if len(args) != 2 {
		usage()
	}
	vs, err := loadVerifiers(args[0])
	if err != nil {
		fail("%v", err)
	}
	cp, err := openCheckpoint(readFile(args[1]), vs)
	if err != nil {
		fail("%v", err)
	}
	fmt.Printf("OK checkpoint origin=%s size=%d root=%s\n", cp.origin, cp.size, cp.root)
}

func cmdReceipt(args []string) {
	if len(args) != 3 {
		usage()
	}
	vs, err := loadVerifiers(args[0])
	if err != nil {
		fail("%v", err)
	}
	index, proof, cpmsg, err := parseTlogProof(readFile(args[1]))
	if err != nil {
		fail("%v", err)
	}
	cp, err := openCheckpoint(cpmsg, vs)
	if err != nil {
		fail("%v", err)
	}
	leaf := readFile(args[2])
	if bytes.HasPrefix(leaf, []byte("AXR1")) {
		if len(leaf) < 13 {
			fail("AXR1 leaf too short")
		}
		if ri := binary.BigEndian.Uint64(leaf[5:13]); ri != uint64(index) {
			fail("AXR1 record index %d != proof index %d", ri, index)
		}
	}
	if index >= cp.size {
		fail("index %d not below checkpoint size %d", index, cp.size)
	}
	if err := tlog.CheckRecord(proof, cp.size, cp.root, index, tlog.RecordHash(leaf)); err != nil {
		fail("inclusion: %v", err)
	}
	fmt.Printf("OK receipt index=%d size=%d leaf_hash=%s\n", index, cp.size, tlog.RecordHash(leaf))
}

func cmdConsistency(args []string) {
	if len(args) != 4 {
		usage()
	}
	vs, err := loadVerifiers(args[0])
	if err != nil {
		fail("%v", err)
	}
	oldcp, err := openCheckpoint(readFile(args[1]), vs)
	if err != nil {
		fail("old checkpoint: %v", err)
	}
	newcp, err := openCheckpoint(readFile(args[2]), vs)
	if err != nil {
		fail("new checkpoint: %v", err)
	}
	if oldcp.origin != newcp.origin {
		fail("origins differ: %q, %q", oldcp.origin, newcp.origin)
	}
	var proof tlog.TreeProof
	for _, l := range strings.Split(string(readFile(args[3])), "\n") {
		if l == "" {
			continue
		}
		h, err := parseHashLine(l)
		if err != nil {
			fail("%v", err)
		}
		proof = append(proof, h)
	}
	if oldcp.size > newcp.size {
		fail("ROLLBACK: old size %d > new size %d", oldcp.size, newcp.size)
	}
	if oldcp.size == 0 {
		if oldcp.root != tlog.Hash(sha256.Sum256(nil)) || len(proof) != 0 {
			fail("size-0 checkpoint with a non-empty root or proof")
		}
	} else if err := tlog.CheckTree(proof, newcp.size, newcp.root, oldcp.size, oldcp.root); err != nil {
		fail("consistency %d -> %d: %v", oldcp.size, newcp.size, err)
	}
	fmt.Printf("OK consistency %d -> %d\n", oldcp.size, newcp.size)
}

func cmdSign(args []string) {
	if len(args) != 2 {
		usage()
	}
	s, err := note.NewSigner(strings.TrimSpace(string(readFile(args[0]))))
	if err != nil {
		fail("private key: %v", err)
	}
	msg, err := note.Sign(&note.Note{Text: string(readFile(args[1]))}, s)
	if err != nil {
		fail("note.Sign: %v", err)
	}
	os.Stdout.Write(msg)
}

func cmdGenkey(args []string) {
	if len(args) != 1 {
		usage()
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, args[0])
	if err != nil {
		fail("note.GenerateKey: %v", err)
	}
	fmt.Printf("%s\n%s\n", skey, vkey)
}

func main() {
	flag.Usage = usage
	flag.Parse()
	args := flag.Args()
	if len(args) < 1 {
		usage()
	}
	switch args[0] {
	case "checkpoint":
		cmdCheckpoint(args[1:])
	case "receipt":
		cmdReceipt(args[1:])
	case "consistency":
		cmdConsistency(args[1:])
	case "sign":
		cmdSign(args[1:])
	case "genkey":
		cmdGenkey(args[1:])
	default:
		usage()
	}
}
