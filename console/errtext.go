package console

import (
	"html/template"
	"regexp"
	"strconv"
	"strings"
)

// The domain, invoicing, payments and sign-in layers word their refusals in
// English, for the API and the logs. A console page shows them in the
// page's language: each known message is matched here and replaced by its
// text (err.* in messages), its variable parts carried over as {1}, {2}….
// A message not known here shows as a general text for its status, with
// the original kept in a details element.

type errorPattern struct {
	re  *regexp.Regexp
	key string
}

func ep(re, key string) errorPattern { return errorPattern{regexp.MustCompile("^" + re + "$"), key} }

var errorPatterns = []errorPattern{
	// Accounts, plans, keys, top-ups (commands).
	ep(`organisation is required`, "err.org.required"),
	ep(`統一編號 "([^"]*)" fails its checksum`, "err.taxid"),
	ep(`agency 統一編號 "([^"]*)" fails its checksum`, "err.agency.taxid"),
	ep(`統一編號 "([^"]*)" is not 8 digits`, "err.taxid.digits"),
	ep(`agency 統一編號 "([^"]*)" is not 8 digits`, "err.agency.taxid.digits"),
	ep(`(?:agency )?統一編號 "([^"]*)" is the e-invoice code of a buyer without one: .*`, "err.taxid.consumer"),
	// Invoice carriers (domain.CheckInvoiceCarrier).
	ep(`統一編號 "([^"]*)" is not valid: 8 digits with a correct check digit`, "err.carrier.taxid"),
	ep(`carrier "([^"]*)" is neither a mobile barcode .*`, "err.carrier.code"),
	ep(`donation code "([^"]*)": want 3 to 7 digits \(愛心碼\)`, "err.carrier.donation"),
	ep(`choose a carrier or a donation code, not both`, "err.carrier.both"),
	ep(`an invoice to a 統一編號 has no carrier or donation code: leave them empty`, "err.carrier.b2b"),
	ep(`unknown plan "([^"]*)"(?: \(starter, business, enterprise\))?`, "err.plan"),
	ep(`credit limit must be zero for prepaid plans and not negative`, "err.credit.prepaid"),
	ep(`custom RPM, TPM and volume discount are for enterprise accounts`, "err.enterprise.only"),
	ep(`limits must not be negative and the discount must be below 1`, "err.limits"),
	ep(`a volume discount has at most four decimal places \((\S+) given; 0\.1 is 10 % off\)`, "err.discount.places"),
	ep(`prepaid plans have no credit limit`, "err.prepaid.nocredit"),
	ep(`a (\S+) account is prepaid: move it to business or enterprise before giving it credit`, "err.credit.prepaidplan"),
	ep(`credit limit must not be negative`, "err.credit.negative"),
	ep(`spend period must be daily, weekly, monthly or never`, "err.spendperiod"),
	ep(`spending limit must not be negative`, "err.spendlimit.negative"),
	ep(`a spending limit of 0 is not offered: .*`, "err.spendlimit.zero"),
	ep(`a spending limit is at most NT\$(\S+)`, "err.spendlimit.max"),
	ep(`a credit limit is at most NT\$(\S+)`, "err.creditlimit.max"),
	ep(`a spending limit has at most two decimal places \(NT\$(\S+) given\)`, "err.spendlimit.cents"),
	ep(`a credit limit has at most two decimal places \(NT\$(\S+) given\)`, "err.creditlimit.cents"),
	ep(`a key needs a name`, "err.key.name"),
	ep(`a key's name is at most (\d+) characters`, "err.key.namelength"),
	ep(`a key's name must not contain control characters \((\S+)\)`, "err.key.namecontrol"),
	ep(`a key's name must be UTF-8 text`, "err.key.nameutf8"),
	// The time given is the instant after the form's last day, in UTC,
	// which would puzzle a customer who chose a day in Taipei.
	ep(`a key's expiry must be in the future \((\S+) given\)`, "err.key.expiry"),
	ep(`method must be .*`, "err.method"),
	ep(`a top-up needs its external reference`, "err.topup.reference"),
	ep(`a top-up must be positive \(NT\$(\S+) given\); take credit back with an adjustment`, "err.topup.positive"),
	ep(`a top-up is a whole number of New Taiwan dollars \(NT\$(\S+) given\): its invoice is issued in whole dollars`, "err.topup.whole"),
	ep(`a top-up is a positive whole number of New Taiwan dollars \(NT\$(\S+) given\)`, "err.topup.whole"),
	ep(`.* is at most NT\$(\S+) \(NT\$(\S+) given\)(?:; split it, or raise --max-topup)?`, "err.topup.max"),
	ep(`an ATM transfer is NT\$(\d+) to NT\$(\d+) \(NT\$(\S+) given\): choose an amount in that range, or pay by card`, "err.topup.atm"),
	ep(`an adjustment needs a non-zero amount and a reason`, "err.adjust"),
	ep(`an adjustment has at most two decimal places \(NT\$(\S+) given\)`, "err.adjust.cents"),
	ep(`resuming an account needs a reason`, "err.resume.reason"),
	ep(`suspending an account needs a reason`, "err.suspend.reason"),
	ep(`correcting an account's details needs a reason`, "err.details.reason"),
	ep(`an account's (\S+) is at most (\d+) characters \((\d+) given\)`, "err.details.long"),
	ep(`an account's (\S+) must not contain control characters \((\S+)\)`, "err.details.control"),
	ep(`this account is suspended: .*`, "err.suspended.keys"),
	ep(`account (\S+) is not suspended`, "err.account.notsuspended"),
	ep(`reference "([^"]*)" was already recorded(?: \(as "[^"]*"\))? with amount (\S+) as (\S+)`, "err.topup.duplicate"),
	ep(`reference "([^"]*)" is already recorded on account (\S+?)(?: \(as "[^"]*"\))? with amount (\S+) as (\S+): a payment credits one account`, "err.topup.elsewhere"),
	ep(`reference "([^"]*)" is already recorded on another account: a payment credits one account`, "err.topup.elsewhere.unnamed"),
	ep(`top-up stream busy(?:: .*)?`, "err.busy"),
	ep(`account (\S+)`, "err.account.notfound"),
	ep(`account not found`, "err.account.notfound"),
	ep(`key (\S+)`, "err.key.notfound"),
	ep(`key not found`, "err.key.notfound"),
	ep(`unknown model "([^"]*)"`, "err.model"),
	ep(`wrong expected version on .*`, "err.changed"),
	ep(`(\S+) contains (.*), which invoices cannot print: .*`, "err.unprintable"),
	ep(`the invoice of account (\S+) cannot be filed: its organisation name is (\d+) characters, an e-invoice's buyer name at most (\d+)`, "err.invoice.unfileable"),
	ep(`the invoice of account (\S+) cannot be printed \(pdf: the font has no glyph for "(.*)"; configure a font that covers them\): set ROUTEFREE_INVOICE_FONT to a font that has these characters`, "err.invoice.unprintable"),
	// Staff tokens.
	ep(`role must be admin, finance or auditor`, "err.staff.role"),
	ep(`a staff token needs at least 24 characters`, "err.staff.short"),
	ep(`staff token (\S+) was revoked`, "err.staff.revoked"),
	ep(`staff token (\S+)`, "err.staff.notfound"),
	ep(`(\S+) is the last admin token; issue another admin token before revoking it`, "err.staff.lastadmin"),
	// Keys within a management key's scope.
	ep(`only a management key issues or revokes keys; this one may only call models`, "err.scope.management"),
	ep(`this key may use only \[(.*)\], so the keys it issues must name their models from that list`, "err.scope.models"),
	ep(`this key may not use (\S+), so neither may the keys it issues`, "err.scope.model"),
	ep(`this key's spending limit is NT\$(\S+) (\S+), so the keys it issues need a spending limit too`, "err.scope.limit"),
	ep(`this key's spending limit is (\S+), so the keys it issues must have a (\S+) limit too \(not (\S+)\)`, "err.scope.period"),
	ep(`a spending limit of NT\$(\S+) is above this key's own NT\$(\S+) (\S+)`, "err.scope.above"),
	ep(`the keys this key made have (\S+) limits adding up to NT\$(\S+) of its own NT\$(\S+), so NT\$(\S+) is left for another \(NT\$(\S+) asked\): lower or delete one of them first`, "err.scope.share"),
	ep(`account (\S+) has (\d+) live keys and an account may have at most (\d+): .*`, "err.keys.cap"),
	ep(`account (\S+) made (\d+) keys in the last hour and an account may make at most (\d+) an hour: the next key can be made at (\S+) \(in (\d+) seconds\); .*`, "err.keys.rate"),
	ep(`this key expires at (\S+), so the keys it issues or changes, itself included, must expire by then too`, "err.scope.expiry"),
	ep(`an expiry of (\S+) is after this key's own, (\S+)`, "err.scope.expirylater"),
	// Invoices, allowances, ranges, quotes.
	ep(`(\S+) has not ended in Taipei: it can be closed from .*`, "err.month.open"),
	ep(`month "([^"]*)": want YYYY-MM`, "err.month.format"),
	ep(`account (\S+) has no postpaid usage in (\S+) to invoice`, "err.month.nousage"),
	ep(`invoice (\S+) is busy`, "err.busy"),
	ep(`a void needs a reason`, "err.void.reason"),
	ep(`invoice (\S+) is already voided`, "err.invoice.voided"),
	ep(`invoice (\S+) is voided: what it billed is on invoice (.+) now, issue the allowance on that invoice`, "err.invoice.voided.billedby"),
	ep(`invoice (\S+) is voided and what it billed is not invoiced again yet: re-issue it \((.+)\), then issue the allowance on the new invoice`, "err.invoice.voided.reissue"),
	ep(`invoice (\S+) is voided`, "err.invoice.voided"),
	ep(`invoice (\S+) has no buyer 統一編號 and its period is not filed yet \(its void window runs to the end of (\S+)\): a buyer without a 統一編號 takes no allowance \(折讓\) before filing \(統一發票使用辦法 §20\), the invoice is voided and issued again: void it \((.+?)\) and re-issue it \((.+)\), which bills its payments whole, or, to bill less, issue the allowance from (\S+), once the period is filed`, "err.allowance.b2cwindow.topup"),
	ep(`invoice (\S+) has no buyer 統一編號 and its period is not filed yet \(its void window runs to the end of (\S+)\): a buyer without a 統一編號 takes no allowance \(折讓\) before filing \(統一發票使用辦法 §20\), the invoice is voided and issued again: void it, taking the amount off its re-issue \((.+?)\), then re-issue it \((.+)\), which bills the rest`, "err.allowance.b2cwindow"),
	ep(`invoice (\S+) has live allowances (.+): void each of them first, then the invoice`, "err.invoice.allowances"),
	ep(`invoice (\S+) can no longer be voided: its period was filed by the end of (\S+), so issue an allowance \(折讓\) instead, or, for a wrong buyer or amount, apply to the tax office for a special void \(專案作廢\)`, "err.void.late"),
	ep(`invoice (\S+) can still be voided until the end of (\S+), its period's filing deadline: void it without a special approval; a special void \(專案作廢\) is recorded only after that day`, "err.specialvoid.early"),
	ep(`a special void needs the tax office's approval reference \(核准文號\)`, "err.specialvoid.approval"),
	ep(`the approval reference is at most (\d+) characters \((\d+) given\)`, "err.specialvoid.long"),
	ep(`the approval reference holds the control character (\S+)`, "err.specialvoid.control"),
	ep(`the approval reference contains (.+), which the documents cannot print`, "err.specialvoid.unprintable"),
	ep(`the approval's day (.+): want YYYY-MM-DD`, "err.specialvoid.day"),
	ep(`the approval's day (\S+) is after today \((\S+)\)`, "err.specialvoid.future"),
	ep(`the approval's day (\S+) is not after invoice (\S+)'s period was filed \(by the end of (\S+)\): the tax office approves a special void after that day`, "err.specialvoid.beforedeadline"),
	ep(`invoice (\S+) already has (\d+) live allowances: void one to issue another`, "err.invoice.maxallowances"),
	ep(`invoice (\S+) has used all (\d+) allowance numbers`, "err.invoice.allowancenumbers"),
	ep(`an allowance needs a positive amount and a reason`, "err.allowance.input"),
	ep(`allowance NT\$(\d+) exceeds what invoice (\S+) still bills \(NT\$(\d+)\)`, "err.allowance.exceeds"),
	ep(`allowance (\S+) is already voided`, "err.allowance.voided"),
	ep(`invoice (\S+)`, "err.invoice.notfound"),
	ep(`allowance (\S+)`, "err.allowance.notfound"),
	ep(`range (\S+) overlaps (\S+), already assigned to period (\S+)`, "err.range.overlap"),
	ep(`no invoice number range assigned for the period (\S+) .*`, "err.range.none"),
	ep(`period (\S+) is more than one period from the current one, (\S+): .*; if (\S+) is meant, say so \(routefree invoices range --far-period\)`, "err.range.far"),
	ep(`range (\S+) of period (\S+) cannot be withdrawn: (\d+) of its numbers (is|are) used \((\S+) through (\S+): .*`, "err.range.used"),
	ep(`(\S+) is not a range of period (\S+) \(its ranges: (.*)\)`, "err.range.notfound"),
	ep(`a reason is required: say why the range is withdrawn \(the auditors read it\)`, "err.range.reason"),
	ep(`the void window has closed .*`, "err.void.window"),
	// Turnkey's folders against the history (invoicing.Outbox).
	ep(`Turnkey's folders hold invoices of numbers this history has not used \((\d+) files: issued by a store since lost, restored from a backup\?\), and it would give those numbers to other buyers: (.*)`, "err.turnkey.foreign"),
	ep(`(\S+) (\S+) in Turnkey's (\S+) is another invoice \((.*)\) than this history's \((.*)\): the number was issued twice, and this history's is neither written nor recorded as uploaded \(docs/invoicing.md, "Numbers used outside the history"\)`, "err.turnkey.clash"),
	ep(`invoice number range exhausted.*`, "err.range.exhausted"),
	ep(`range prefix "([^"]*)": want 2 uppercase letters`, "err.range.prefix"),
	ep(`range (\d+)-(\d+): want 0 ≤ from ≤ to ≤ 99999999`, "err.range.numbers"),
	ep(`period "([^"]*)": want YYYY-MM`, "err.period.format"),
	ep(`period "([^"]*)": month must be odd \(01, 03, …, 11\)`, "err.period.odd"),
	ep(`agency is required`, "err.quote.agency"),
	ep(`at least one item is required`, "err.quote.items"),
	ep(`item (\d+) needs a name, a positive quantity and a price ≥ 0`, "err.quote.item"),
	ep(`valid_days must be 1 to 365`, "err.quote.days"),
	ep(`quote (\S+) expired on (.*)`, "err.quote.expired"),
	ep(`quote (\S+) was withdrawn on (\S+) and replaced by (\S+)`, "err.quote.replacedon"),
	ep(`quote (\S+) was already replaced by (\S+) on (\S+)`, "err.quote.replacedalready"),
	ep(`quote (\S+) was withdrawn on (\S+) for replacement (\S+), which was never issued, with the reason (.*): send the replacement with that reason`, "err.quote.replacementreason"),
	ep(`quote (\S+) was withdrawn on (\S+); issue the new quote without replaces`, "err.quote.withdrawnalready"),
	ep(`quote (\S+) was withdrawn on (\S+): (.*)`, "err.quote.withdrawn"),
	ep(`quote (\S+) is accepted as contract (\S+); an accepted quote cannot be withdrawn`, "err.quote.accepted.withdraw"),
	ep(`quote (\S+) is accepted as contract (\S+); an accepted quote cannot be replaced`, "err.quote.accepted.replace"),
	ep(`a withdrawal needs a reason \(the quote's PDF prints it\)`, "err.quote.reason"),
	ep(`a quote totals at most (\S+) \(NT\$(\S+)\) with tax`, "err.quote.max"),
	ep(`a quote has at most (\d+) items \((\d+) given\)`, "err.quote.count"),
	ep(`item (\d+): quantity (\S+) has more than (\d+) decimal places`, "err.quote.qty.places"),
	ep(`item (\d+): unit price (\S+) has more than (\d+) decimal places`, "err.quote.price.places"),
	ep(`item (\d+): (\S+) is at most (\d+) characters \((\d+) given\)`, "err.quote.item.long"),
	ep(`item (\d+): (\S+) holds the control character (\S+)`, "err.quote.item.control"),
	ep(`(\S+) is at most (\d+) characters \((\d+) given\)`, "err.quote.long"),
	ep(`(\S+) holds the control character (\S+)`, "err.quote.control"),
	ep(`(\S+) has at most (\d+) lines \((\d+) given\)`, "err.quote.lines"),
	ep(`item (\d+): (\S+) contains (.*), which the documents cannot print`, "err.quote.item.unprintable"),
	ep(`(?:the )?(\S+) contains (.*), which the documents cannot print(?:: write it with common characters)?`, "err.document.unprintable"),
	ep(`this key already issued quote (\S+), for another request`, "err.quote.key"),
	ep(`quote (\S+)`, "err.quote.notfound"),
	// The console's own.
	ep(`(\S+): "([^"]*)" is not a number`, "err.number"),
	ep(`(\S+): "([^"]*)" is not a plain amount`, "err.amount"),
	ep(`(\S+): "([^"]*)" is not a whole number`, "err.whole"),
	ep(`(\S+): "([^"]*)" is not a date \(YYYY-MM-DD\)`, "err.date"),
	ep(`amount: "([^"]*)" is not a positive whole number of NTD`, "err.amount.whole"),
	ep(`item (.*): quantity and unit price must be numbers`, "err.quote.numbers"),
	ep(`valid days must be a whole number`, "err.quote.days"),
	ep(`the quotation service is not configured`, "quote.unavailable"),
	ep(`invoicing is not configured`, "err.invoicing.off"),
	ep(`from and to must be eight-digit numbers`, "err.range.digits"),
	ep(`no Turnkey folder is configured \(ROUTEFREE_TURNKEY_DIR\)`, "err.turnkey.off"),
	ep(`Turnkey's folder (.+) does not exist \(or is not a folder\): give the root folder of the Turnkey program, where its UpCast folder is`, "err.turnkey.missing"),
	ep(`message: "([^"]*)" is not one of F0401, F0501, G0401, G0501, E0402`, "err.mig.message"),
	ep(`(?:from|to) must be YYYY-MM-DD`, "err.date.format"),
	ep(`the range must run forward and span at most (\d+) days`, "err.date.range"),
	ep(`time "([^"]*)" is not RFC 3339 nor YYYY-MM-DD\[THH:MM\]`, "err.time.format"),
	ep(`position "([^"]*)" is not commit/prepare`, "err.position"),
	ep(`event type ("[^"]*") does not exist`, "err.event.type"),
	ep(`until ("[^"]*") must come after since ("[^"]*")`, "err.time.order"),
	ep(`the change is recorded but the read models are behind; reload shortly`, "err.behind"),
	ep(`the form has no one-time token: reload the page and send it again`, "err.form.once"),
	ep(`invoice (\S+) changed since the form was shown \((\d+) allowances, not (\d+)\): reload the page`, "err.form.stale"),
	// OpenRouter's OAuth PKCE (/auth), its app's request and the user's answer.
	ep(`this account has (\d+) app approvals waiting for their apps to exchange them, the most it may have: .*`, "err.auth.toomany"),
	ep(`callback_url is required: the app's URL to send the user back to`, "err.auth.callback.required"),
	ep(`callback_url is longer than (\d+) bytes`, "err.auth.callback.long"),
	ep(`callback_url must be https \(http only to localhost, 127\.0\.0\.1 or \[::1\]\)`, "err.auth.callback.https"),
	ep(`callback_url must not carry user information \(user:password@\)`, "err.auth.callback.user"),
	ep(`callback_url must not have a fragment \(#…\): the code is added to its query`, "err.auth.callback.fragment"),
	ep(`callback_url must be an absolute https URL`, "err.auth.callback.url"),
	ep(`code_challenge_method was sent without a code_challenge`, "err.auth.challenge.missing"),
	ep(`code_challenge_method must be S256 or plain`, "err.auth.method"),
	ep(`an S256 code_challenge is the SHA-256 of the verifier in base64url without padding: 43 characters`, "err.auth.challenge.s256"),
	ep(`a plain code_challenge is the verifier itself: 1 to 256 letters, digits and - \. _ ~`, "err.auth.challenge.plain"),
	ep(`limit must be a positive amount of NTD with at most two decimal places \(NT\$0\.01\)`, "err.auth.limit"),
	ep(`decision must be approve or deny`, "err.auth.decision"),
	ep(`this form was approved for another app's request: reload the page`, "err.auth.otherrequest"),
	ep(`the code could not be kept: try again shortly`, "err.auth.unavailable"),
	ep(`the approval cannot be read right now: try again shortly`, "err.auth.unavailable"),
	ep(`the denial could not be recorded: try again shortly`, "err.auth.denial.unavailable"),
	ep(`cannot tell whether this form was already sent; send it again shortly`, "err.form.unknown"),
	// Sign-in and the web server's own.
	ep(`the request's CSRF token is missing or wrong`, "signin.csrf"),
	ep(`sign in with a staff token or an API key`, "err.signin"),
	ep(`your role may not do this`, "err.role"),
	ep(`this needs a management key of the account: an inference key calls models and reads its account`, "err.management"),
	ep(`Not Found`, "err.status.404"),
	ep(`Method Not Allowed`, "err.status.405"),
	ep(`Unauthorized`, "err.signin"),
	ep(`Forbidden`, "err.role"),
	ep(`Request Entity Too Large`, "err.status.413"),
	ep(`internal error`, "err.status.500"),
	// Payment notifications refused (payments).
	ep(`CheckMacValue does not verify`, "err.pay.signature"),
	ep(`another merchant's notification`, "err.pay.merchant"),
	ep(`unknown trade number`, "err.pay.trade"),
	ep(`amount "([^"]*)" differs from the NT\$(\S+) asked`, "err.pay.amount"),
	ep(`simulated payment`, "err.pay.simulated"),
	ep(`not paid \(RtnCode ([^:]*): (.*)\)`, "err.pay.unpaid"),
	ep(`replay: the trade is already credited`, "err.pay.replay"),
	ep(`no ATM account assigned \(RtnCode ([^:]*): (.*)\)`, "err.pay.noatm"),
	ep(`the trade is already paid: its ATM account does not change`, "err.pay.paidaccount"),
	// A trade number finance recorded by hand otherwise: the top-ups' refusal, after "credited otherwise: ".
	ep(`credited otherwise: reference "([^"]*)" was already recorded(?: \(as "[^"]*"\))? with amount (\S+) as (\S+)`, "err.pay.otherwise.recorded"),
	ep(`credited otherwise: reference "([^"]*)" is already recorded on account (\S+?)(?: \(as "[^"]*"\))? with amount (\S+) as (\S+): a payment credits one account`, "err.pay.otherwise.elsewhere"),
	ep(`credited otherwise: reference "([^"]*)" is already recorded on another account: a payment credits one account`, "err.pay.otherwise.unnamed"),
}

// errorPrefixes are the sentinel errors' words that wrap a message.
var errorPrefixes = []string{"invoicing: invalid: ", "invoicing: conflict: ", "invoicing: not found: ", "invoicing: ",
	"invalid: ", "conflict: ", "not found: ", "beyond the key's scope: ", "too many keys: ", "too many keys made: ", "twrules: ", "single sign-on failed: "}

func stripPrefixes(msg string) string {
	for again := true; again; {
		again = false
		for _, p := range errorPrefixes {
			if strings.HasPrefix(msg, p) {
				msg, again = msg[len(p):], true
			}
		}
	}
	return msg
}

// fieldPlaceholders are the messages whose variable part names a form's
// field (by the word the layer below knows it by), and which part that is.
var fieldPlaceholders = map[string]int{
	"err.quote.long": 1, "err.quote.control": 1, "err.quote.lines": 1, "err.document.unprintable": 1, "err.amount": 1,
	"err.details.long": 1, "err.details.control": 1,
	"err.quote.item.long": 2, "err.quote.item.control": 2, "err.quote.item.unprintable": 2,
}

// methodPlaceholders are the messages whose variable part is a payment
// method (credit-card, bank-transfer), and which part that is: shown in
// the page's words for it.
var methodPlaceholders = map[string]int{"err.topup.duplicate": 3, "err.topup.elsewhere": 4,
	"err.pay.otherwise.recorded": 3, "err.pay.otherwise.elsewhere": 4}

// periodPlaceholders are the messages whose variable part is a spending
// limit's period, shown in the page's language (limitperiod.*).
var periodPlaceholders = map[string]int{"err.scope.share": 1}

// fieldLabels are those words with the label each field has on its page,
// so that a refusal names the field as the page does, in its language.
var fieldLabels = map[string]string{
	"agency": "agency", "agency_address": "address", "address": "address", "contact": "contact", "remarks": "remarks",
	"name": "item", "spec": "spec", "unit": "unit", "item_qty": "quantity", "item_price": "unitprice",
	"amount": "field.amount", "credit_limit": "creditlimit", "spend_limit": "spendlimit",
}

// placeholder is a variable part of a message's text: {1}, {2}….
var placeholder = regexp.MustCompile(`\{(\d+)\}`)

// translateOne finds msg's text, as HTML; ok is false for a message not
// known here. The parts it carries over are what the caller typed or what
// was stored (a reference, a name's characters, the provider's words):
// each is escaped and isolated in a <bdi>, so that right-to-left text or a
// bidirectional control in it cannot reorder the sentence around it.
func translateOne(lang, msg string) (template.HTML, bool) {
	msg = stripPrefixes(strings.TrimSpace(msg))
	for _, p := range errorPatterns {
		m := p.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		out := placeholder.ReplaceAllStringFunc(template.HTMLEscapeString(tr(lang, p.key)), func(ph string) string {
			i, err := strconv.Atoi(ph[1 : len(ph)-1])
			if err != nil || i < 1 || i >= len(m) {
				return ph
			}
			if label, ok := fieldLabels[m[i]]; ok && fieldPlaceholders[p.key] == i {
				return template.HTMLEscapeString(tr(lang, label))
			}
			if methodPlaceholders[p.key] == i && known("method."+m[i]) {
				return template.HTMLEscapeString(tr(lang, "method."+m[i]))
			}
			if periodPlaceholders[p.key] == i && known("limitperiod."+m[i]) {
				return template.HTMLEscapeString(tr(lang, "limitperiod."+m[i]))
			}
			return "<bdi>" + template.HTMLEscapeString(m[i]) + "</bdi>"
		})
		return template.HTML(out), true
	}
	return "", false
}

// errorText is msg in lang, as HTML. A message of several parts ("a; b",
// as a form with several problems is refused) is translated part by part.
// When some part is not known, text is the status's general message and
// detail the original, its bidirectional controls written as escapes.
func errorText(lang string, status int, msg string) (text template.HTML, detail string) {
	if t, ok := translateOne(lang, msg); ok {
		return t, ""
	}
	parts := strings.Split(stripPrefixes(msg), "; ")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		t, ok := translateOne(lang, p)
		if !ok || len(parts) == 1 {
			general := "err.status." + strconv.Itoa(status)
			if !known(general) {
				general = "err.status.500"
			}
			return template.HTML(template.HTMLEscapeString(tr(lang, general))), jsonText([]byte(msg))
		}
		out = append(out, string(t))
	}
	sep := "; "
	if lang == langZH {
		sep = "；"
	}
	return template.HTML(strings.Join(out, sep)), ""
}

// reasonOf translates a message kept in an event (a refused payment
// notification's reason) for a page, as HTML; an unknown one shows as it
// is, isolated.
func reasonOf(lang, msg string) template.HTML {
	if t, ok := translateOne(lang, msg); ok {
		return t
	}
	return template.HTML("<bdi>" + template.HTMLEscapeString(msg) + "</bdi>")
}
