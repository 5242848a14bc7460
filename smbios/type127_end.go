package smbios

// EndOfTableInfo is SMBIOS type 127, the structure that ends a table.
type EndOfTableInfo struct {
	Header
}

// ParseEndOfTable decodes a type 127 structure.
func ParseEndOfTable(s *Structure, v Version) (*EndOfTableInfo, error) {
	if err := checkType(s, EndOfTable, 4); err != nil {
		return nil, err
	}
	e := &EndOfTableInfo{}
	decodeFields(&e.Header, s, v, nil)
	return e, nil
}

// Structure encodes the end-of-table marker.
func (e *EndOfTableInfo) Structure() (*Structure, error) {
	return encodeFields(&e.Header, EndOfTable, nil, 4)
}

// Fields renders the structure as dmidecode does: a title and no fields.
func (e *EndOfTableInfo) Fields() []Field { return nil }

func (e *EndOfTableInfo) String() string {
	return renderText(&e.Header, e.length(), TypeTitle(EndOfTable), nil)
}

func init() {
	registerType(&typeSpec{typ: EndOfTable, title: "End Of Table", minLength: 4,
		lengths: []versionLength{since(2, 0, 4)},
		parse:   parser(ParseEndOfTable)})
}

func (*EndOfTableInfo) structureType() uint8 { return EndOfTable }

func (e *EndOfTableInfo) buildLength(v Version) int { return 4 }

func (e *EndOfTableInfo) setDefaults(*buildContext) {}
