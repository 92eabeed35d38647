// gobgen produces encoding/gob test vectors with Go's own encoder, and decodes the TypeScript encoder's
// output with Go's own decoder.
//
//	go run . gen         writes the vectors as JSON on stdout (test/goplugin/gob/fixtures/vectors.json)
//	go run . decode      reads {"hex": "...", "kinds": [...]} on stdin: one gob stream holding values
//	                     of the listed reply kinds, decodes them in order, prints them as JSON
//	go run . jsonnames   prints the JSON name of every struct field reachable from Argo's RPC arguments
//	go run . rolloutjson prints the Rollout of the Argo vectors as Kubernetes JSON (encoding/json)
//	go run . big N       a SetWeight call whose Rollout has N containers (too big to commit as a fixture)
//	go run . metricgen, metricjsonnames, analysisrunjson: the metric-provider plugin's (metric.go)
package main

import (
	"bytes"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

func main() {
	mode := "gen"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	var err error
	switch mode {
	case "gen":
		err = writeJSON(generate())
	case "decode":
		err = decodeMode(os.Stdin)
	case "jsonnames":
		err = writeJSON(jsonNames())
	case "rolloutjson":
		err = writeJSON(testRollout())
	case "metricgen":
		err = writeJSON(metricVectors())
	case "metricjsonnames":
		err = writeJSON(metricJSONNames())
	case "analysisrunjson":
		err = writeJSON(testAnalysisRun())
	case "big":
		n := 100
		if len(os.Args) > 2 {
			_, err = fmt.Sscan(os.Args[2], &n)
		}
		if err == nil {
			err = writeJSON(bigVector(n))
		}
	default:
		err = fmt.Errorf("unknown mode %q (gen, decode, jsonnames, rolloutjson, big, metricgen, metricjsonnames, analysisrunjson)", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gobgen:", err)
		os.Exit(1)
	}
}

func writeJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	return enc.Encode(v)
}

// Vector is one gob stream: the values in it, in order, described the way the TypeScript decoder
// represents them (see describe.go).
type Vector struct {
	Name string `json:"name"`
	Hex  string `json:"hex"`
	// Values as described by describe(); one per Encode call.
	Values []any `json:"values"`
	// False when the stream holds a map with several entries: Go writes map entries in random order,
	// so only the decoded values (not the bytes) are stable across runs.
	Deterministic bool `json:"deterministic"`
}

// stream encodes values with one Encoder, like one direction of one net/rpc connection.
func stream(name string, deterministic bool, values ...any) Vector {
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	v := Vector{Name: name, Deterministic: deterministic}
	for _, x := range values {
		if err := enc.Encode(x); err != nil {
			panic(fmt.Sprintf("%s: %v", name, err))
		}
		v.Values = append(v.Values, describeTop(x))
	}
	v.Hex = hex.EncodeToString(buf.Bytes())
	return v
}

// Reply kinds the TypeScript encoder produces.
type rpcResponse struct {
	ServiceMethod string
	Seq           uint64
	Error         string
}

type rpcRequest struct {
	ServiceMethod string
	Seq           uint64
}

func decodeMode(r io.Reader) error {
	var in struct {
		Hex   string   `json:"hex"`
		Kinds []string `json:"kinds"`
	}
	if err := json.NewDecoder(r).Decode(&in); err != nil {
		return err
	}
	raw, err := hex.DecodeString(in.Hex)
	if err != nil {
		return err
	}
	rd := bytes.NewReader(raw) // an io.ByteReader, so gob reads no further than it needs
	dec := gob.NewDecoder(rd)
	var out []any
	for i, kind := range in.Kinds {
		v, err := decodeKind(dec, kind)
		if err != nil {
			return fmt.Errorf("value %d (%s): %w", i, kind, err)
		}
		out = append(out, v)
	}
	if rd.Len() != 0 {
		return fmt.Errorf("%d trailing bytes after %d values", rd.Len(), len(in.Kinds))
	}
	return writeJSON(out)
}
