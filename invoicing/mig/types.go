package mig

import "encoding/xml"

// RoleDescription is a party (Seller or Buyer).
type RoleDescription struct {
	Identifier      string `xml:"Identifier"`
	Name            string `xml:"Name"`
	Address         string `xml:"Address,omitempty"`
	PersonInCharge  string `xml:"PersonInCharge,omitempty"`
	TelephoneNumber string `xml:"TelephoneNumber,omitempty"`
	EmailAddress    string `xml:"EmailAddress,omitempty"`
	CustomerNumber  string `xml:"CustomerNumber,omitempty"`
	RoleRemark      string `xml:"RoleRemark,omitempty"`
}

// Invoice is the F0401 message.
type Invoice struct {
	XMLName xml.Name      `xml:"Invoice"`
	Xmlns   string        `xml:"xmlns,attr"`
	Main    InvoiceMain   `xml:"Main"`
	Details []ProductItem `xml:"Details>ProductItem"`
	Amount  InvoiceAmount `xml:"Amount"`
}

// InvoiceMain is F0401's Main block.
type InvoiceMain struct {
	InvoiceNumber string          `xml:"InvoiceNumber"`
	InvoiceDate   string          `xml:"InvoiceDate"` // yyyyMMdd, western, Taipei
	InvoiceTime   string          `xml:"InvoiceTime"` // HH:mm:ss
	Seller        RoleDescription `xml:"Seller"`
	Buyer         RoleDescription `xml:"Buyer"`
	MainRemark    string          `xml:"MainRemark,omitempty"`
	RelateNumber  string          `xml:"RelateNumber,omitempty"`
	InvoiceType   string          `xml:"InvoiceType"`
	DonateMark    string          `xml:"DonateMark"`
	CarrierType   string          `xml:"CarrierType,omitempty"`
	CarrierId1    string          `xml:"CarrierId1,omitempty"`
	CarrierId2    string          `xml:"CarrierId2,omitempty"`
	PrintMark     string          `xml:"PrintMark"`
	NPOBAN        string          `xml:"NPOBAN,omitempty"`
	RandomNumber  string          `xml:"RandomNumber"`
}

// ProductItem is one invoice line.
type ProductItem struct {
	Description    string `xml:"Description"`
	Quantity       string `xml:"Quantity"`
	Unit           string `xml:"Unit,omitempty"`
	UnitPrice      string `xml:"UnitPrice"`
	TaxType        string `xml:"TaxType"`
	Amount         string `xml:"Amount"`
	SequenceNumber string `xml:"SequenceNumber"`
	Remark         string `xml:"Remark,omitempty"`
}

// InvoiceAmount is F0401's Amount block.
type InvoiceAmount struct {
	SalesAmount        string `xml:"SalesAmount"`
	FreeTaxSalesAmount string `xml:"FreeTaxSalesAmount"`
	ZeroTaxSalesAmount string `xml:"ZeroTaxSalesAmount"`
	TaxType            string `xml:"TaxType"`
	TaxRate            string `xml:"TaxRate"`
	TaxAmount          string `xml:"TaxAmount"`
	TotalAmount        string `xml:"TotalAmount"`
}

// CancelInvoice is the F0501 message.
type CancelInvoice struct {
	XMLName             xml.Name `xml:"CancelInvoice"`
	Xmlns               string   `xml:"xmlns,attr"`
	CancelInvoiceNumber string   `xml:"CancelInvoiceNumber"`
	InvoiceDate         string   `xml:"InvoiceDate"`
	BuyerId             string   `xml:"BuyerId"`
	SellerId            string   `xml:"SellerId"`
	CancelDate          string   `xml:"CancelDate"`
	CancelTime          string   `xml:"CancelTime"`
	CancelReason        string   `xml:"CancelReason"`
	// ReturnTaxDocumentNumber is a special void's approval (專案作廢核准文號).
	ReturnTaxDocumentNumber string `xml:"ReturnTaxDocumentNumber,omitempty"`
	Remark                  string `xml:"Remark,omitempty"`
}

// Allowance is the G0401 message.
type Allowance struct {
	XMLName xml.Name        `xml:"Allowance"`
	Xmlns   string          `xml:"xmlns,attr"`
	Main    AllowanceMain   `xml:"Main"`
	Details []AllowanceItem `xml:"Details>ProductItem"`
	Amount  AllowanceAmount `xml:"Amount"`
}

// AllowanceMain is G0401's Main block.
type AllowanceMain struct {
	AllowanceNumber string          `xml:"AllowanceNumber"`
	AllowanceDate   string          `xml:"AllowanceDate"`
	Seller          RoleDescription `xml:"Seller"`
	Buyer           RoleDescription `xml:"Buyer"`
	AllowanceType   string          `xml:"AllowanceType"` // 1 buyer-issued, 2 seller-issued
}

// AllowanceItem is one allowance line against an original invoice.
type AllowanceItem struct {
	OriginalInvoiceDate     string `xml:"OriginalInvoiceDate"`
	OriginalInvoiceNumber   string `xml:"OriginalInvoiceNumber"`
	OriginalSequenceNumber  string `xml:"OriginalSequenceNumber,omitempty"`
	OriginalDescription     string `xml:"OriginalDescription"`
	Quantity                string `xml:"Quantity"`
	Unit                    string `xml:"Unit,omitempty"`
	UnitPrice               string `xml:"UnitPrice"`
	Amount                  string `xml:"Amount"`
	Tax                     string `xml:"Tax"`
	AllowanceSequenceNumber string `xml:"AllowanceSequenceNumber"`
	TaxType                 string `xml:"TaxType"`
}

// AllowanceAmount is G0401's Amount block.
type AllowanceAmount struct {
	TaxAmount   string `xml:"TaxAmount"`
	TotalAmount string `xml:"TotalAmount"` // untaxed allowance total
}

// CancelAllowance is the G0501 message: the void of an allowance.
type CancelAllowance struct {
	XMLName               xml.Name `xml:"CancelAllowance"`
	Xmlns                 string   `xml:"xmlns,attr"`
	CancelAllowanceNumber string   `xml:"CancelAllowanceNumber"`
	AllowanceDate         string   `xml:"AllowanceDate"`
	BuyerId               string   `xml:"BuyerId"`
	SellerId              string   `xml:"SellerId"`
	CancelDate            string   `xml:"CancelDate"`
	CancelTime            string   `xml:"CancelTime"`
	CancelReason          string   `xml:"CancelReason"`
	Remark                string   `xml:"Remark,omitempty"`
}
