package smbios

// Finding codes. Each names one problem; FormatError.Code and the findings from Lint use them.
// They are stable: tools and scenario files match on them.
const (
	CodeUnrecognized         = "smbios-unrecognized"                      // not a container this package reads
	CodeRSMBHeader           = "smbios-rsmb-header"                       // a Windows RSMB blob whose header is inconsistent
	CodeEntryPointTruncated  = "smbios-entry-point-truncated"             // the data ends inside the entry point
	CodeEntryPointLength     = "smbios-entry-point-length"                // the entry point length byte is wrong
	CodeEntryPointChecksum   = "smbios-entry-point-checksum"              // the entry point bytes do not sum to zero
	CodeIntermediateAnchor   = "smbios-entry-point-intermediate-anchor"   // _SM_ without its _DMI_ intermediate anchor
	CodeIntermediateChecksum = "smbios-entry-point-intermediate-checksum" // the _DMI_ part of _SM_ does not sum to zero
	CodeEntryPointReserved   = "smbios-entry-point-reserved"              // a reserved _SM3_ byte is not zero
	CodeEntryPointVersion    = "smbios-entry-point-version"               // an impossible version (2.31, 2.33) read as 2.3/2.6
	CodeNoEntryPoint         = "smbios-no-entry-point"                    // a bare table: no entry point, version guessed
	CodeTableAddress         = "smbios-table-address"                     // a dump file whose table address is outside the file
	CodeTableTruncated       = "smbios-table-truncated"                   // fewer table bytes than the entry point announces
	CodeTableLength          = "smbios-table-length"                      // the structures do not fill the announced table length
	CodeStructureCount       = "smbios-structure-count"                   // _SM_/_DMI_ structure count differs from the table
	CodeMaxStructureSize     = "smbios-max-structure-size"                // _SM_ maximum structure size smaller than the largest structure
	CodeStructureLength      = "smbios-structure-length"                  // a structure length below the 4-byte header
	CodeStructureOverrun     = "smbios-structure-overrun"                 // a structure or its strings run past the end of the table
	CodeStructureTooShort    = "smbios-structure-too-short"               // shorter than the smallest length its type allows
	CodeStringIndex          = "smbios-string-index"                      // a string field points past the structure's strings
	CodeNoEndOfTable         = "smbios-no-end-of-table"                   // no type 127 structure
	CodeTrailingData         = "smbios-trailing-data"                     // non-zero bytes after the end-of-table structure
	CodeDuplicateHandle      = "smbios-duplicate-handle"                  // two structures share a handle
	CodeMissingStructure     = "smbios-missing-structure"                 // a structure that identity needs (type 0, 1) is absent
	CodePlaceholderSerial    = "smbios-placeholder-serial"                // a serial number left at a firmware default
	CodePlaceholderAssetTag  = "smbios-placeholder-asset-tag"             // an asset tag left at a firmware default
	CodePlaceholderString    = "smbios-placeholder-string"                // another string left at a firmware default
	CodeUUIDPlaceholder      = "smbios-uuid-placeholder"                  // system UUID all zero, all FF or a known default
	CodeValueOutOfRange      = "smbios-value-out-of-range"                // an enumerated field outside the specification
	CodeBIOSDate             = "smbios-bios-date"                         // a BIOS release date not in the mm/dd/yyyy form
)
