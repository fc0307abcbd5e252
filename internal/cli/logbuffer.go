package cli

import (
	"io"
	"sync"
	"time"
)

// Batching of serve's log output. Every request writes one access-log
// line; written one by one, each line costs a write system call, which the
// load benchmark showed as a tenth of the CPU of a JWKS or discovery
// request. Lines are instead collected and written together a few
// milliseconds later: the first line into an empty buffer arms a timer,
// and everything gathered until it fires goes out in one write. A full
// buffer is written at once, and serve flushes on its way out, so nothing
// is lost on a normal stop; a crash of the whole process can lose the last
// few milliseconds of lines.
const (
	logFlushDelay = 5 * time.Millisecond
	logBufferSize = 64 << 10
)

// logBuffer is an io.Writer that batches writes to dst. It is safe for
// concurrent use; each Write lands whole and in order.
type logBuffer struct {
	mu    sync.Mutex
	dst   io.Writer
	buf   []byte
	delay time.Duration
	timer *time.Timer // armed while buf holds unwritten lines
	err   error       // first write error, reported by Flush
}

func newLogBuffer(dst io.Writer, delay time.Duration) *logBuffer {
	return &logBuffer{dst: dst, delay: delay, buf: make([]byte, 0, 4096)}
}

// Write appends p to the batch.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > logBufferSize {
		b.flushLocked()
		if len(p) > logBufferSize {
			_, err := b.dst.Write(p)
			return len(p), err
		}
	}
	b.buf = append(b.buf, p...)
	if b.timer == nil {
		b.timer = time.AfterFunc(b.delay, func() { _ = b.Flush() })
	}
	return len(p), nil
}

// Flush writes out what is buffered and returns the first write error seen.
func (b *logBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	return b.err
}

func (b *logBuffer) flushLocked() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if len(b.buf) == 0 {
		return
	}
	if _, err := b.dst.Write(b.buf); err != nil && b.err == nil {
		b.err = err
	}
	b.buf = b.buf[:0]
}
