package console

import (
	"fmt"
	"regexp"
)

// Refusals of free texts (commands.plainText) name their field in English;
// each field's words in both languages, so a page says which of its
// inputs is wrong.
var textFields = map[string][2]string{
	"a top-up's reference":   {"儲值參考編號", "A top-up's reference"},
	"an adjustment's reason": {"調整原因", "An adjustment's reason"},
	"a suspension's reason":  {"停用原因", "A suspension's reason"},
	"a resumption's reason":  {"恢復原因", "A resumption's reason"},
	"a correction's reason":  {"更正原因", "A correction's reason"},
	"a staff token's name":   {"員工權杖名稱", "A staff token's name"},
}

func init() {
	for field, words := range textFields {
		q := regexp.QuoteMeta(field)
		for _, m := range []struct{ re, key, zh, en string }{
			{q + ` is at most (\d+) characters`, "length", "%s最多 {1} 個字元。", "%s is at most {1} characters."},
			{q + ` must not contain control characters \((\S+)\)`, "control", "%s不得含控制字元或雙向文字控制字元（{1}）。", "%s must not contain control or bidirectional control characters ({1})."},
			{q + ` must be UTF-8 text`, "utf8", "%s須為 UTF-8 文字。", "%s must be UTF-8 text."},
		} {
			key := "err.text." + m.key + "." + field
			messages[key] = [2]string{fmt.Sprintf(m.zh, words[0]), fmt.Sprintf(m.en, words[1])}
			errorPatterns = append(errorPatterns, ep(m.re, key))
		}
	}
	messages["err.ref.invisible"] = [2]string{"儲值參考編號不得含不可見字元（{1}），常見於自網頁或試算表貼上的文字：請重新輸入。",
		"A top-up's reference must not contain invisible characters ({1}), which text pasted from a web page or a spreadsheet may carry: type it again."}
	errorPatterns = append(errorPatterns, ep(`a top-up's reference must not contain invisible characters \((\S+)\)`, "err.ref.invisible"))
	messages["err.org.length"] = [2]string{"公司名稱有 {1} 個字元，電子發票的買受人名稱最多 {2} 個字元。",
		"The organisation's name is {1} characters; an e-invoice's buyer name holds at most {2}."}
	errorPatterns = append(errorPatterns, ep(`organisation is (\d+) characters; an e-invoice's buyer name holds at most (\d+)`, "err.org.length"))
}
