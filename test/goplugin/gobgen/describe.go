package main

import (
	"encoding"
	"encoding/base64"
	"encoding/gob"
	"fmt"
	"math"
	"reflect"
	"sort"
	"time"
)

// describe renders a Go value the way the TypeScript decoder must see it after gob, applying gob's
// omission rules (encode.go): in a struct, zero scalars, empty slices, nil maps, nil pointers, nil
// interfaces and zero GobEncoders are not sent; elements of slices, arrays and maps are always sent.
// Tags for what JSON cannot say: {"$big": "…"} integers beyond 2^53, {"$float": "NaN"}, {"$bytes": b64},
// {"$map": [[k, v], …]} sorted by key, {"$iface": name, "value": …}, {"$time": RFC3339Nano},
// {"$opaque": typeName, "bytes": b64}, {"$complex": [re, im]}.

var (
	gobEncoderType = reflect.TypeFor[gob.GobEncoder]()
	binMarshalType = reflect.TypeFor[encoding.BinaryMarshaler]()
)

// registeredNames maps concrete types to the names they were registered under (gob.Register*).
var registeredNames = map[reflect.Type]string{}

func register(name string, v any) {
	gob.RegisterName(name, v)
	registeredNames[reflect.TypeOf(v)] = name
	if t := reflect.TypeOf(v); t.Kind() == reflect.Pointer {
		registeredNames[t.Elem()] = name
	}
}

func describeTop(x any) any {
	v := reflect.ValueOf(x)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	d, _ := describe(v, true)
	return d
}

func describe(v reflect.Value, sendZero bool) (any, bool) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, false
		}
		return describe(v.Elem(), sendZero)
	}
	if d, ok, handled := describeExternal(v, sendZero); handled {
		return d, ok
	}
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool(), v.Bool() || sendZero
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i := v.Int()
		if i > 1<<53-1 || i < -(1<<53-1) {
			return map[string]any{"$big": fmt.Sprint(i)}, true
		}
		return i, i != 0 || sendZero
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := v.Uint()
		if u > 1<<53-1 {
			return map[string]any{"$big": fmt.Sprint(u)}, true
		}
		return u, u != 0 || sendZero
	case reflect.Float32, reflect.Float64:
		return describeFloat(v.Float()), v.Float() != 0 || sendZero
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		return map[string]any{"$complex": []any{describeFloat(real(c)), describeFloat(imag(c))}}, c != 0 || sendZero
	case reflect.String:
		return v.String(), v.Len() > 0 || sendZero
	case reflect.Slice:
		if v.Len() == 0 && !sendZero {
			return nil, false
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return map[string]any{"$bytes": base64.StdEncoding.EncodeToString(v.Bytes())}, true
		}
		return describeElems(v), true
	case reflect.Array:
		return describeElems(v), true
	case reflect.Map:
		if v.IsNil() && !sendZero {
			return nil, false
		}
		type kv struct {
			k   any
			v   any
			key string
		}
		var entries []kv
		iter := v.MapRange()
		for iter.Next() {
			k, _ := describe(iter.Key(), true)
			e, _ := describe(iter.Value(), true)
			entries = append(entries, kv{k, e, fmt.Sprintf("%v", k)})
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
		out := []any{}
		for _, e := range entries {
			out = append(out, []any{e.k, e.v})
		}
		return map[string]any{"$map": out}, true
	case reflect.Interface:
		if v.IsNil() {
			return nil, sendZero
		}
		elem := v.Elem()
		name, ok := registeredNames[elem.Type()]
		if !ok {
			name = elem.Type().String()
		}
		return map[string]any{"$iface": name, "value": describeTop(elem.Interface())}, true
	case reflect.Struct:
		out := map[string]any{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Type.Kind() == reflect.Chan || f.Type.Kind() == reflect.Func {
				continue
			}
			if d, ok := describe(v.Field(i), false); ok {
				out[f.Name] = d
			}
		}
		return out, true
	}
	panic(fmt.Sprintf("describe: unsupported kind %s", v.Kind()))
}

func describeElems(v reflect.Value) []any {
	out := make([]any, v.Len())
	for i := range out {
		out[i], _ = describe(v.Index(i), true)
	}
	return out
}

// describeExternal handles GobEncoder / BinaryMarshaler types (time.Time, metav1.Time, custom ones).
func describeExternal(v reflect.Value, sendZero bool) (any, bool, bool) {
	var data []byte
	var err error
	switch {
	case v.Type().Implements(gobEncoderType):
		data, err = v.Interface().(gob.GobEncoder).GobEncode()
	case v.Type().Implements(binMarshalType):
		data, err = v.Interface().(encoding.BinaryMarshaler).MarshalBinary()
	default:
		return nil, false, false
	}
	if err != nil {
		panic(err)
	}
	if !sendZero && v.IsZero() {
		return nil, false, true
	}
	var t time.Time
	if (v.Type().Name() == "Time" || v.Type().Name() == "MicroTime") && t.UnmarshalBinary(data) == nil {
		return map[string]any{"$time": t.Format(time.RFC3339Nano)}, true, true
	}
	return map[string]any{"$opaque": v.Type().Name(), "bytes": base64.StdEncoding.EncodeToString(data)}, true, true
}

func describeFloat(f float64) any {
	switch {
	case math.IsNaN(f):
		return map[string]any{"$float": "NaN"}
	case math.IsInf(f, 1):
		return map[string]any{"$float": "+Inf"}
	case math.IsInf(f, -1):
		return map[string]any{"$float": "-Inf"}
	}
	return f
}
