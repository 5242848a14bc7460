package hwid

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ParseInventory reads an inventory as `oemact hwid capture --json` writes it. A component may
// carry a value, a digest or both: a missing digest is computed from the value, and a digest that
// does not match its value is refused (the file was edited by hand). name is used in errors.
func ParseInventory(b []byte, name string) (Inventory, error) {
	var inv Inventory
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&inv); err != nil {
		return Inventory{}, fmt.Errorf("%s: not an inventory (JSON from oemact hwid capture --json): %w", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Inventory{}, fmt.Errorf("%s: data after the inventory's JSON object", name)
	}
	for i := range inv.Components {
		c := &inv.Components[i]
		where := fmt.Sprintf("%s: component %d", name, i+1)
		if !slices.Contains(Classes, c.Class) {
			known := make([]string, len(Classes))
			for j, k := range Classes {
				known[j] = string(k)
			}
			return Inventory{}, fmt.Errorf("%s: unknown class %q (known: %s)", where, c.Class, strings.Join(known, ", "))
		}
		switch {
		case c.Value == "" && c.Digest == "":
			return Inventory{}, fmt.Errorf("%s (%s): neither value nor digest", where, c.Class)
		case c.Digest == "":
			c.Digest = Digest(c.Class, c.Value)
		case c.Value != "" && c.Digest != Digest(c.Class, c.Value):
			return Inventory{}, fmt.Errorf("%s (%s): digest %s does not match value %q (want %s): remove the digest or the value",
				where, c.Class, c.Digest, c.Value, Digest(c.Class, c.Value))
		}
	}
	return inv, nil
}
