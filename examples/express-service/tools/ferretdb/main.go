// Command sfcrm-ferretdb runs FerretDB (a MongoDB wire-protocol server) with its embedded SQLite
// backend on loopback, for the express-service tests of the MongoDB token store.
//
// Usage: sfcrm-ferretdb -dir DATA_DIR [-addr 127.0.0.1:0]
// Prints "FERRETDB_URI=mongodb://127.0.0.1:PORT/" once it accepts connections, and exits when
// its standard input closes (so a test runner that dies never leaves it behind).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	dir := flag.String("dir", "", "data directory for the SQLite backend (required)")
	addr := flag.String("addr", "", "listen address (default: a free loopback port)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "sfcrm-ferretdb: -dir is required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "sfcrm-ferretdb:", err)
		os.Exit(1)
	}
	listen := *addr
	if listen == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "sfcrm-ferretdb:", err)
			os.Exit(1)
		}
		listen = l.Addr().String()
		l.Close()
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sfcrm-ferretdb:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	for i := 0; i < 200; i++ {
		c, err := net.DialTimeout("tcp", listen, 100*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Printf("FERRETDB_URI=mongodb://%s/\n", listen)
	if err := <-done; err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "sfcrm-ferretdb:", err)
		os.Exit(1)
	}
}
