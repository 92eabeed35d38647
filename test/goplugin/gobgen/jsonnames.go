package main

import (
	"reflect"
	"sort"
	"strings"

	"github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"
)

// FieldName is how encoding/json names one Go struct field reachable from Argo's RPC arguments.
type FieldName struct {
	Type  string `json:"type"`
	Field string `json:"field"`
	// JSON is the key encoding/json uses; "" when the field is inlined (embedded without a name).
	JSON   string `json:"json"`
	Inline bool   `json:"inline,omitempty"`
	// Skip is true for `json:"-"` fields.
	Skip bool `json:"skip,omitempty"`
}

func jsonNames() []FieldName {
	return jsonNamesOf(rpc.UpdateHashArgs{}, rpc.SetWeightAndVerifyWeightArgs{}, rpc.SetHeaderArgs{}, rpc.SetMirrorArgs{}, rpc.RemoveManagedRoutesArgs{})
}

// jsonNamesOf walks every struct type reachable from the roots.
func jsonNamesOf(roots ...any) []FieldName {
	seen := map[reflect.Type]bool{}
	var out []FieldName
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			if t.Kind() == reflect.Map {
				walk(t.Key())
			}
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			fn := FieldName{Type: t.PkgPath() + "." + t.Name(), Field: f.Name, JSON: name}
			switch {
			case name == "-":
				fn.Skip, fn.JSON = true, ""
			case name == "" && f.Anonymous:
				fn.Inline = true
			case name == "":
				fn.JSON = f.Name
			}
			out = append(out, fn)
			walk(f.Type)
		}
	}
	for _, v := range roots {
		walk(reflect.TypeOf(v))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Field < out[j].Field
	})
	return out
}
