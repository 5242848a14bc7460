// Package cert is the model's OEM certificate: an XrML-shaped .xrm-ms document in which a TEST
// authority (playing Microsoft's role) binds an OEM's RSA-1024 SLIC key to its OEM IDs.
//
// It issues, parses and verifies TEST certificates only; it does not read Microsoft's certificates
// or implement Microsoft's XrML canonicalisation. The layout and the signing
// scheme follow.
//
// # Layout
//
// Real OEM certificates (*.xrm-ms in %windir%\System32\OEM) are XrML 2.x licenses: a <r:license>
// whose <r:grant> names the OEM's public key in a <r:keyHolder> and the OEM IDs it may use, and an
// <r:issuer> holding an XML-DSig signature. Ours has that shape, written with encoding/xml:
//
//	<r:license xmlns:r="urn:mpeg:mpeg21:2003:01-REL-R-NS" xmlns:dsig="http://www.w3.org/2000/09/xmldsig#"
//	           xmlns:oa="urn:oemact:xrml:oem:1" licenseId="{...}">
//	  <r:title>oemact TEST OEM certificate - not Microsoft</r:title>
//	  <r:grant>
//	    <r:keyHolder><r:info><dsig:KeyValue><dsig:RSAKeyValue>
//	      <dsig:Modulus>base64, big-endian</dsig:Modulus><dsig:Exponent>AQAB</dsig:Exponent>
//	    </dsig:RSAKeyValue></dsig:KeyValue></r:info></r:keyHolder>
//	    <r:possessProperty/>
//	    <oa:oemProperties>
//	      <oa:oemIds OEMID="TSTOEM" OEMTableID="TSTBOARD"/>   (one or more pairs)
//	    </oa:oemProperties>
//	  </r:grant>
//	  <r:issuer>
//	    <dsig:Signature>
//	      <dsig:SignedInfo>
//	        <dsig:CanonicalizationMethod Algorithm="urn:oemact:xrml:c14n-fields:1"/>
//	        <dsig:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
//	        <dsig:Reference>
//	          <dsig:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
//	          <dsig:DigestValue>base64</dsig:DigestValue>
//	        </dsig:Reference>
//	      </dsig:SignedInfo>
//	      <dsig:SignatureValue>base64</dsig:SignatureValue>
//	      <dsig:KeyInfo><dsig:KeyName>oemact TEST authority - not Microsoft</dsig:KeyName>
//	        <dsig:KeyValue>...the authority's public key...</dsig:KeyValue></dsig:KeyInfo>
//	    </dsig:Signature>
//	    <r:details><r:timeOfIssue>2026-01-01T00:00:00Z</r:timeOfIssue></r:details>
//	  </r:issuer>
//	  <r:otherInfo><oa:testOnly>TEST ONLY: ...</oa:testOnly></r:otherInfo>
//	</r:license>
//
// The OEM key is the RSA-1024 key of the SLIC (OA 2.1 rule 2 compares the two). The authority key
// is RSA-2048 or larger. The OEM IDs live in oemact's own namespace: we do not copy Microsoft's
// property names. Prefixes are free: a reader resolves them by namespace URL.
//
// # Signing
//
// encoding/xml cannot canonicalise XML, and XML-DSig over exact bytes breaks when a file is
// re-indented. So the signature covers a canonical form that this package defines over the decoded
// fields (AlgCanonical), not the XML text:
//
//	oemact-xrm-c14n/1\n
//	license_id="..."\n  title="..."\n  test_label="..."\n  time_of_issue="RFC 3339, UTC"\n
//	oem_key_modulus="lower-case hex, big-endian"\n  oem_key_exponent="decimal"\n
//	oem_id="..."\n  oem_table_id="..."\n        (per pair, in document order)
//	issuer_name="..."\n  issuer_key_sha256="hex SHA-256 of the KeyInfo key's PKIX DER"\n
//
// one line per field (shown here two or three to a line), each value quoted as Go's
// strconv.Quote does, so no value can run into the next. DigestValue is SHA-256 of that form;
// SignatureValue is RSASSA-PKCS1-v1_5 with SHA-256 over the same form, by the authority key.
// Keeping the digest lets Verify tell "the content changed after signing" (digest differs) from
// "someone else signed it" (issuer key differs) and from "the signature is bad" (digest matches,
// signature does not). Everything the model reads from a certificate is in the canonical form;
// what is not (formatting, comments, prefixes, unknown elements) carries no meaning.
package cert
