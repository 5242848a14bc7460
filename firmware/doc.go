// Package firmware reads, checks and writes the ACPI tables that carry OEM activation markers:
// the common header and checksum, SLIC (OA 2.x), MSDM (OA 3.0), the RSDT/XSDT entry lists and the
// FADT's OEM fields, from sysfs-like folders, raw table files, acpidump text and kernel log lines.
//
// It decodes and checks bytes; it does not judge activation (the model in oemact does) and it
// never alters a real table for reuse. Each structure is described once, as a list of fields
// (see layout.go), and that description drives decoding, encoding and the human dump.
//
// Decoders follow debug/elf: plain structs of what is on disk, decoders from []byte, and a
// *FormatError that says which table and which byte offset is wrong. Problems that are facts about
// a well-formed table (a bad checksum, a marker that does not verify) are findings from Check, not
// decode errors.
package firmware
