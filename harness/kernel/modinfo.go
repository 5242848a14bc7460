package kernel

import (
	"debug/elf"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// ModInfo is what a module's .modinfo section says about it.
type ModInfo struct {
	Name     string
	Depends  []string
	Vermagic string
}

// ReadModInfo reads the .modinfo section of a .ko file: NUL-separated key=value strings, the same
// data modinfo(8) prints. Module names use underscores; a missing name= falls back to the file name.
func ReadModInfo(path string) (ModInfo, error) {
	f, err := elf.Open(path)
	if err != nil {
		return ModInfo{}, fmt.Errorf("kernel module %s: %w", path, err)
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return ModInfo{}, fmt.Errorf("kernel module %s has no .modinfo section: not a kernel module?", path)
	}
	data, err := sec.Data()
	if err != nil {
		return ModInfo{}, fmt.Errorf("kernel module %s: reading .modinfo: %w", path, err)
	}
	var mi ModInfo
	for _, kv := range strings.Split(string(data), "\x00") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		switch k {
		case "name":
			mi.Name = v
		case "vermagic":
			mi.Vermagic = v
		case "depends":
			for _, d := range strings.Split(v, ",") {
				if d = strings.TrimSpace(d); d != "" {
					mi.Depends = append(mi.Depends, modName(d))
				}
			}
		}
	}
	if mi.Name == "" {
		mi.Name = modName(strings.TrimSuffix(filepath.Base(path), ".ko"))
	}
	return mi, nil
}

// modName normalises a module name the way the kernel does: dashes become underscores.
func modName(s string) string { return strings.ReplaceAll(s, "-", "_") }

// LoadOrder returns the modules needed for roots, dependencies first, from an index of the modules
// available (name to depends). Roots in builtin are skipped: the kernel has them already. Among
// modules with no order between them, roots keep the order given, then names sort, so the result
// is stable.
func LoadOrder(index map[string][]string, builtin map[string]bool, roots []string) ([]string, error) {
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("kernel modules depend on each other in a cycle: %s", strings.Join(append(path, name), " -> "))
		}
		deps, ok := index[name]
		if !ok {
			if builtin[name] {
				state[name] = 2
				return nil
			}
			if len(path) == 0 {
				return fmt.Errorf("kernel module %s is neither in the package nor built into the kernel", name)
			}
			return fmt.Errorf("kernel module %s needs %s, which is neither in the package nor built into the kernel", path[len(path)-1], name)
		}
		state[name] = 1
		deps = append([]string(nil), deps...)
		sort.Strings(deps)
		for _, d := range deps {
			if err := visit(d, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, name)
		return nil
	}
	for _, r := range roots {
		if err := visit(modName(r), nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}
