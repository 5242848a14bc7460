// Package fwimage walks firmware images read from a file and finds the ACPI tables stored in
// them: UEFI firmware volumes (FFS files and sections, LZMA-compressed sections decompressed),
// UEFI capsules, flash images with an Intel flash descriptor, coreboot ROMs (FMAP and CBFS, raw,
// LZMA and LZ4 files) and, for any other bytes, a scan for checksummed ACPI tables.
//
// It reads images and never writes them; it does not decode or judge the tables it finds
// (package firmware does). Every read is bounded (Limits): a length field is checked before it
// is used, decompression stops at a per-section and a per-image budget, and what cannot be
// walked is reported with its place in the image rather than skipped.
package fwimage
