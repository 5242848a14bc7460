package guestimage

// SfdiskTable is sfdiskTable for the tests outside the package (which import harnesstest, and so
// this package).
var SfdiskTable = sfdiskTable
