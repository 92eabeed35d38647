// gobbench writes the recorded bytes of the gob decoding benchmark (a realistic Rollout sent as Argo's
// SetWeightAndVerifyWeightArgs, repeated on one stream the way a plugin stream carries one call after
// another) and times Go's encoding/gob decoding them, so our decoder can be timed on the very same bytes.
package main

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"

	"github.com/argoproj-labs/rollouts-plugin-trafficrouter-alb/bench/internal/fixture"
)

func main() {
	mode := flag.String("mode", "decode", "gen | decode")
	path := flag.String("file", "", "bytes file")
	messages := flag.Int("messages", 20, "messages on the stream (gen)")
	seconds := flag.Float64("seconds", 2, "how long to decode (decode)")
	flag.Parse()
	switch *mode {
	case "gen":
		ro := fixture.Rollout("bench", `{"ingress":"bench-ingress","servicePort":80}`)
		var buf bytes.Buffer
		enc := gob.NewEncoder(&buf)
		for i := 0; i < *messages; i++ {
			var args any = rpc.SetWeightAndVerifyWeightArgs{Rollout: *ro, DesiredWeight: int32(i % 100)}
			if err := enc.Encode(&args); err != nil {
				fail(err)
			}
		}
		if err := os.WriteFile(*path, buf.Bytes(), 0o644); err != nil {
			fail(err)
		}
	case "decode":
		data, err := os.ReadFile(*path)
		if err != nil {
			fail(err)
		}
		deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
		passes, values := 0, 0
		start := time.Now()
		for time.Now().Before(deadline) || passes == 0 {
			dec := gob.NewDecoder(bytes.NewReader(data))
			for {
				var v any
				if err := dec.Decode(&v); err == io.EOF {
					break
				} else if err != nil {
					fail(err)
				}
				values++
			}
			passes++
		}
		elapsed := time.Since(start).Seconds()
		out, _ := json.Marshal(map[string]any{
			"decoder": "go encoding/gob", "bytes": len(data), "passes": passes, "values": values,
			"seconds": elapsed, "mbPerSec": float64(len(data)*passes) / elapsed / 1e6,
		})
		fmt.Println(string(out))
	default:
		fail(fmt.Errorf("unknown mode %q", *mode))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gobbench:", err)
	os.Exit(1)
}
