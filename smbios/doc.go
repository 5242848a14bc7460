// Package smbios reads, checks and writes SMBIOS data: entry points (_SM_, _SM3_ and legacy
// _DMI_), structure tables, typed structures for the types that carry a platform's identity, and
// the containers they travel in (sysfs, dmidecode --dump-bin, bare tables, Windows RSMB blobs,
// QEMU's one-structure-per-file form).
//
// It does not collect hardware inventories or apply activation rules; oemact/hwid does that with
// the Identity this package reads.
//
// Decoding never trusts a length field: every read is bounds-checked, and a malformed table
// yields the structures before the damage plus a *FormatError that names the offset in the table
// and the structure (type and handle) where decoding stopped. Typed structures render the way
// dmidecode 3.4 prints them (see Fields and String on each type), which the tests check field by
// field against dmidecode itself.
package smbios
