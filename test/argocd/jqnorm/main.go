// jqnorm applies Argo CD ignoreDifferences jqPathExpressions to Kubernetes objects the way Argo CD's diff
// normalizer does (util/argo/normalizers in argo-cd v3.6): each expression is wrapped in del(...), parsed and
// compiled with gojq (the version argo-cd v3.6.2 requires), and run on the object; the first output is the
// new object, an error or a second output leaves the object as it was (Argo CD logs those at debug level and
// carries on), and empty maps and lists are dropped at the end.
//
// stdin:  {"expressions": ["..."], "objects": [{...}]}
// stdout: {"objects": [{...}], "errors": [["" or the error of expression j on object i, ...], ...]}
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/itchyny/gojq"
)

type input struct {
	Expressions []string         `json:"expressions"`
	Objects     []map[string]any `json:"objects"`
}

type output struct {
	Objects []map[string]any `json:"objects"`
	Errors  [][]string       `json:"errors"`
}

func apply(code *gojq.Code, obj map[string]any) (map[string]any, error) {
	// Argo CD runs each expression on a JSON round trip of the object, under a one-second deadline.
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	iter := code.RunWithContext(ctx, doc)
	first, ok := iter.Next()
	if !ok {
		return nil, fmt.Errorf("no output")
	}
	if e, isErr := first.(error); isErr {
		return nil, e
	}
	if _, more := iter.Next(); more {
		return nil, fmt.Errorf("more than one output")
	}
	out, isMap := first.(map[string]any)
	if !isMap {
		return nil, fmt.Errorf("output is %T, not an object", first)
	}
	return out, nil
}

// dropEmpty removes empty maps and lists, recursively, as Argo CD does after normalizing.
func dropEmpty(m map[string]any) {
	for k, v := range m {
		switch t := v.(type) {
		case map[string]any:
			dropEmpty(t)
			if len(t) == 0 {
				delete(m, k)
			}
		case []any:
			kept := make([]any, 0, len(t))
			for _, item := range t {
				if im, isMap := item.(map[string]any); isMap {
					dropEmpty(im)
					if len(im) == 0 {
						continue
					}
				}
				kept = append(kept, item)
			}
			if len(kept) == 0 {
				delete(m, k)
			} else {
				m[k] = kept
			}
		}
	}
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "jqnorm: reading input:", err)
		os.Exit(2)
	}
	codes := make([]*gojq.Code, len(in.Expressions))
	for i, expr := range in.Expressions {
		q, err := gojq.Parse(fmt.Sprintf("del(%s)", expr))
		if err != nil {
			fmt.Fprintf(os.Stderr, "jqnorm: expression %d does not parse: %v\n", i, err)
			os.Exit(1)
		}
		code, err := gojq.Compile(q)
		if err != nil {
			fmt.Fprintf(os.Stderr, "jqnorm: expression %d does not compile: %v\n", i, err)
			os.Exit(1)
		}
		codes[i] = code
	}
	out := output{Objects: make([]map[string]any, len(in.Objects)), Errors: make([][]string, len(in.Objects))}
	for i, obj := range in.Objects {
		errs := make([]string, len(codes))
		for j, code := range codes {
			next, err := apply(code, obj)
			if err != nil {
				errs[j] = err.Error()
				continue
			}
			obj = next
		}
		dropEmpty(obj)
		out.Objects[i] = obj
		out.Errors[i] = errs
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "jqnorm: writing output:", err)
		os.Exit(2)
	}
}
