package console

import (
	"net/http"
)

// Languages: Traditional Chinese by default, English on request.
const (
	langZH = "zh-TW"
	langEN = "en"
)

// messages holds each text in zh-TW and en.
var messages = map[string][2]string{
	"title.signin":   {"登入", "Sign in"},
	"title.accounts": {"帳戶", "Accounts"},
	"title.account":  {"帳戶", "Account"},
	"title.invoices": {"發票", "Invoices"},
	"title.quotes":   {"報價單", "Quotations"},
	"title.audit":    {"稽核", "Audit"},
	"title.models":   {"模型", "Models"},
	"title.rankings": {"排行榜", "Rankings"},
	"title.error":    {"錯誤", "Error"},

	"nav.accounts":  {"帳戶", "Accounts"},
	"nav.invoices":  {"發票", "Invoices"},
	"nav.quotes":    {"報價單", "Quotes"},
	"nav.audit":     {"稽核", "Audit"},
	"nav.myaccount": {"我的帳戶", "My account"},
	"nav.models":    {"模型", "Models"},
	"nav.rankings":  {"排行榜", "Rankings"},

	"signin":             {"登入", "Sign in"},
	"signout":            {"登出", "Sign out"},
	"signin.token":       {"員工權杖或 API 金鑰", "Staff token or API key"},
	"signin.hint":        {"以 API 金鑰登入僅能檢視該金鑰所屬帳戶。", "An API key signs you in to its own account only."},
	"signin.bad":         {"權杖或金鑰無效。", "That token or key is not valid."},
	"signin.slow":        {"登入失敗次數過多，請稍後再試。", "Too many failed sign-ins: try again shortly."},
	"signin.unavailable": {"暫時無法登入，請稍後再試。", "Signing in is unavailable right now: try again shortly."},
	"signin.csrf":        {"表單已過期，請重新整理後再試。", "The form expired: reload the page and try again."},
	"back":               {"返回", "Back"},

	"account":         {"帳戶", "Account"},
	"account.open":    {"開立帳戶", "Open an account"},
	"organisation":    {"公司名稱", "Organisation"},
	"taxid":           {"統一編號", "Tax ID (統一編號)"},
	"address":         {"地址", "Address"},
	"contact":         {"聯絡人", "Contact"},
	"plan":            {"方案", "Plan"},
	"plan.change":     {"變更方案", "Change plan"},
	"plan.starter":    {"入門（預付）", "Starter (prepaid)"},
	"plan.business":   {"企業（月結）", "Business (monthly)"},
	"plan.enterprise": {"大型企業（月結）", "Enterprise (monthly)"},
	"balance":         {"餘額", "Balance"},
	"creditlimit":     {"信用額度", "Credit limit"},
	"discount":        {"量販折扣", "Volume discount"},
	"mtd":             {"本月累計", "Month to date"},
	"status":          {"狀態", "Status"},
	"active":          {"使用中", "Active"},
	"suspended":       {"已停用", "Suspended"},
	"suspend":         {"停用帳戶", "Suspend account"},
	"resume":          {"恢復帳戶", "Resume account"},
	"reason":          {"原因", "Reason"},
	"none":            {"（無）", "(none)"},
	"save":            {"儲存", "Save"},
	"show":            {"顯示", "Show"},
	"from":            {"起", "From"},
	"to":              {"迄", "To"},

	"key.management":       {"管理金鑰：可在本金鑰的限制內建立與撤銷金鑰，不能呼叫模型", "Management key: issues and revokes keys within its own limits, calls no model"},
	"key.scope.management": {"管理金鑰", "management key"},

	"keys":           {"API 金鑰", "API keys"},
	"key.prefix":     {"金鑰開頭", "Key prefix"},
	"key.create":     {"建立金鑰", "Create key"},
	"key.created":    {"已建立新金鑰", "New key created"},
	"key.once":       {"此金鑰僅顯示這一次，請立即妥善保存。", "This key is shown only once: store it now."},
	"name":           {"名稱", "Name"},
	"models":         {"模型", "Models"},
	"allmodels":      {"全部模型", "All models"},
	"spendlimit":     {"消費上限", "Spending limit"},
	"period":         {"期間", "Period"},
	"period.daily":   {"每日", "daily"},
	"period.weekly":  {"每週", "weekly"},
	"period.monthly": {"每月", "monthly"},
	"revoke":         {"撤銷", "Revoke"},
	"revoked":        {"已撤銷", "Revoked"},

	"usage":       {"用量", "Usage"},
	"usage.day":   {"每日費用（新臺幣）", "Cost per day (NTD)"},
	"usage.model": {"各模型費用（新臺幣）", "Cost by model (NTD)"},
	"chart.data":  {"圖表資料", "Chart data"},
	"day":         {"日期", "Day"},
	"apps":        {"各應用程式用量", "Usage by app"},
	"app":         {"應用程式", "App"},
	"requests":    {"請求數", "Requests"},
	"tokens":      {"Token 數", "Tokens"},

	"topups":               {"儲值紀錄", "Top-ups"},
	"topup.record":         {"登錄儲值", "Record top-up"},
	"topup.ok":             {"已登錄儲值。", "Top-up recorded."},
	"topup.dup":            {"此參考編號已登錄過，未重複入帳。", "That reference was already recorded: not credited twice."},
	"amount":               {"金額（新臺幣）", "Amount (NTD)"},
	"method":               {"方式", "Method"},
	"method.bank-transfer": {"銀行轉帳", "Bank transfer"},
	"method.credit-card":   {"信用卡", "Card"},
	"method.adjustment":    {"調整", "Adjustment"},
	"reference":            {"參考編號", "Reference"},
	"date":                 {"日期", "Date"},
	"saved":                {"已儲存。", "Saved."},
	"key.revoked":          {"金鑰已撤銷。", "Key revoked."},
	"account.opened":       {"帳戶已開立。", "Account opened."},
	"account.suspended":    {"帳戶已停用。", "Account suspended."},
	"account.resumed":      {"帳戶已恢復。", "Account resumed."},
	"adjust.record":        {"登錄調整", "Record adjustment"},
	"adjust.ok":            {"已登錄餘額調整。", "Adjustment recorded."},

	"invoices":       {"發票", "Invoices"},
	"invoice.number": {"發票號碼", "Number"},
	"invoice.issued": {"已開立", "Issued"},
	"invoice.voided": {"已作廢", "Voided"},
	"month":          {"月份", "Month"},
	"buyer":          {"買受人", "Buyer"},
	"total":          {"總計", "Total"},

	"agency":            {"機關名稱", "Agency"},
	"item":              {"品項", "Item"},
	"spec":              {"規格", "Specification"},
	"quantity":          {"數量", "Quantity"},
	"unit":              {"單位", "Unit"},
	"unitprice":         {"單價", "Unit price"},
	"remarks":           {"備註", "Remarks"},
	"quote.build":       {"產生報價單", "Build quotation"},
	"quote.issued":      {"已產生報價單", "Quotation issued"},
	"quote.pdf":         {"下載報價單 PDF", "Download the quotation PDF"},
	"quote.validdays":   {"有效天數", "Valid for (days)"},
	"quote.unavailable": {"報價服務尚未設定。", "The quotation service is not configured."},

	"audit.checks":      {"雜湊鏈與重播核對", "Hash chain and replay"},
	"audit.run":         {"執行核對", "Run the checks"},
	"audit.chainok":     {"雜湊鏈完整", "Hash chain verified"},
	"audit.chainbroken": {"雜湊鏈斷裂", "Hash chain broken"},
	"audit.replayok":    {"重播結果與即時數據一致", "Replay matches the live figures"},
	"audit.replaydiff":  {"重播結果與即時數據不一致", "Replay differs from the live figures"},
	"audit.figure":      {"項目", "Figure"},
	"audit.live":        {"即時", "Live"},
	"audit.replay":      {"重播", "Replay"},
	"audit.log":         {"事件紀錄", "Event log"},
	"audit.export":      {"匯出事件（NDJSON）", "Export events (NDJSON)"},
	"figure.balance":    {"餘額", "Balance"},
	"figure.month":      {"月用量", "Monthly usage"},
	"figure.invoices":   {"月發票", "Monthly invoices"},
	"events":            {"筆事件", "events"},
	"stream":            {"串流", "Stream"},
	"type":              {"類型", "Type"},
	"since":             {"起始時間", "Since"},
	"until":             {"截止時間", "Until"},
	"time":              {"時間", "Time"},
	"data":              {"內容", "Data"},
	"actor":             {"執行者", "Actor"},
	"next":              {"下一頁", "Next page"},

	"search":        {"搜尋", "Search"},
	"model":         {"模型", "Model"},
	"context":       {"上下文長度", "Context"},
	"price.in":      {"輸入", "Input"},
	"price.out":     {"輸出", "Output"},
	"price.cached":  {"快取輸入", "Cached input"},
	"modalities":    {"模態", "Modalities"},
	"models.prices": {"價格為每百萬 Token 之新臺幣金額，含 5% 營業稅（營業稅法第 32 條）。", "Prices in NTD per million tokens; they include the 5% business tax (Business Tax Act §32)."},
	"amounts.tax":   {"金額為新臺幣，含 5% 營業稅。", "Amounts in NTD include the 5% business tax."},
	"rank.apps":     {"熱門應用程式（依 Token 數）", "Top apps by tokens"},
	"rank.models":   {"熱門模型（依 Token 數）", "Top models by tokens"},
}

// tr translates key; an unknown key shows as itself, so a missing text is
// visible rather than blank.
func tr(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if lang == langEN {
		return m[1]
	}
	return m[0]
}

// known reports whether key is a message (flash keys come from the URL).
func known(key string) bool { _, ok := messages[key]; return ok }

// language picks the page language: ?lang= (remembered in a cookie), then
// the cookie, then Traditional Chinese.
func language(w http.ResponseWriter, r *http.Request) string {
	if q := r.URL.Query().Get("lang"); q == langEN || q == langZH {
		setCookie(w, r, langCookie, q, 365*24*3600)
		return q
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == langEN || c.Value == langZH) {
		return c.Value
	}
	return langZH
}
