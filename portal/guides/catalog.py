"""The mail-program catalog: one MailClient per program the portal writes setup guides for.

Pure data built from portal.guides.model. Labels are quoted in each program's own
wording (Japanese and English UI). Where a label could not be confirmed from the
vendor's own text (localisation files, help pages) it carries an "unverified:"
comment that says why (tests/portal/test_guides.py insists on the reason); labels
confirmed only from a hosting company's manual that shows the real screen (Xserver)
say so in a comment as well. Sources are recorded per program (`sources`) and, where
one label has its own, next to the label.

Spelling on purpose: Microsoft, Mozilla, Google, Rimarts, Hidemaru write サーバー;
Apple and Shuriken write サーバ (MailClient.server_word).
"""

from __future__ import annotations

from portal.guides.model import Auth, Field, MailClient, Screen, Security, T

# --- shared texts ---------------------------------------------------------------------------

ON = T("オン（チェックを入れる）", "On (checked)")
OFF = T("オフ（チェックを外す）", "Off (unchecked)")
ANY_NAME = T("任意（例: 会社のメール）", "Anything you like (e.g. Work mail)")

# The same security words in several programs.
NONE_JA_EN = T("なし", "None")
SSL_TLS = T("SSL/TLS", "SSL/TLS")
STARTTLS = T("STARTTLS", "STARTTLS")

# Advice that recurs in many programs' troubleshooting.


def cert_name_advice(message: T | None = None) -> T:
    """Troubleshooting for a certificate warning; `message` is the program's own wording of
    it (quoted in 「」, so in the program's own spelling of サーバ/サーバー)."""
    quoted = T(f"「{message.ja}」と", f"“{message.en}” or ") if message else T("", "")
    return T(
        f"証明書の警告が出る・{quoted.ja}表示される場合は、受信・送信の"
        "サーバー名がこの案内のとおり一字一句同じか確認してください（古いサーバー名や "
        "mail.お客様のドメイン のままだと、証明書の名前と合わず警告が出ます）。警告を"
        "承認・続行して使い続けないでください。",
        f"If {quoted.en}a certificate warning appears, check "
        "that the incoming and outgoing server names are exactly the ones in this guide (an old "
        "server name, or mail.<your domain>, does not match the certificate). Do not accept or "
        "continue past the warning.",
    )


TS_CERT_NAME = cert_name_advice()
# Apple's dialog (iOS and macOS Mail), in Apple's spelling サーバ.
APPLE_CANNOT_VERIFY = T("サーバの識別情報を検証できません", "Cannot Verify Server Identity")
TS_CERT_NAME_APPLE = cert_name_advice(APPLE_CANNOT_VERIFY)


# One checkbox that follows the port (Outlook Express, Windows Live Mail, Apple, iOS): checked,
# it encrypts from the start on 465 / 993 / 995 and uses STARTTLS on 587.
def box_follows_port(box: T) -> T:
    return T(
        f"「{box.ja}」にチェックを入れると、ポート 465・993・995 では最初から暗号化し、"
        "587 では STARTTLS で暗号化します。ポート番号は必ず案内どおりにしてください。",
        f"With “{box.en}” ticked, ports 465, 993 and 995 encrypt from the start and port 587 "
        "uses STARTTLS, so set the port exactly as in this guide.",
    )


TS_SEND_ONLY = T(
    "受信はできるのに送信だけできない場合は、送信（SMTP）側だけを見直してください: "
    "送信サーバー名、ポート番号と暗号化の組み合わせ（465 は SSL/TLS、587 は STARTTLS）、"
    "SMTP 認証が「オン」で受信と同じユーザー名・パスワードになっているか。",
    "If receiving works but sending fails, check only the outgoing (SMTP) side: the "
    "outgoing server name, the port and security pair (465 with SSL/TLS, 587 with "
    "STARTTLS), and that SMTP authentication is on with the same user name and password as "
    "for receiving.",
)
TS_RECEIVE_ONLY = T(
    "送信はできるのに受信だけできない場合は、受信側のポートと暗号化の組み合わせ"
    "（POP3 は 995 と SSL/TLS、IMAP は 993 と SSL/TLS）とユーザー名を確認してください。",
    "If sending works but receiving fails, check the incoming port and security pair "
    "(POP3 995 with SSL/TLS, IMAP 993 with SSL/TLS) and the user name.",
)
TS_PASSWORD = T(
    "「パスワードが違う」「認証に失敗しました」と出る場合は、メールのパスワード"
    "（インターネット接続用のパスワードではありません）とユーザー名を入れ直してください。",
    "If the program says the password is wrong or authentication failed, re-enter the "
    "mailbox password (not your internet connection password) and the user name.",
)
TS_XP_TLS12 = T(
    "Windows XP（と Vista）は TLS 1.2 で接続できません。サーバーが TLS 1.2 以上だけを"
    "受け付けるようになると、SSL の設定が正しくても送受信できなくなります。SSL を外して"
    "平文に戻す方法はパスワードが盗まれる危険があるため案内していません。"
    "新しいパソコンとメールソフトへの移行をご検討ください。",
    "Windows XP (and Vista) cannot connect with TLS 1.2. Once the servers accept only "
    "TLS 1.2 or later, sending and receiving stop even with correct SSL settings. We do not "
    "advise turning SSL off (your password could be stolen); please move to a current "
    "computer and mail program.",
)

# --- 1. Thunderbird -------------------------------------------------------------------------
# Japanese and English labels from Thunderbird's own localisation files
# (thunderbird-l10n ja/mail/messenger/accountcreation/accountSetup.ftl, accountHub.ftl,
# ja/mail/chrome/messenger/am-server-top.dtd, smtpEditOverlay.dtd, accountManager.ftl;
# comm-central en-US accountSetup.ftl and smtpEditOverlay.dtd).

TB_SECURITY = Security(
    style="choice",
    choices={"none": T("なし", "None"), "starttls": STARTTLS, "ssl": SSL_TLS},
)
TB_NORMAL_PASSWORD = T("通常のパスワード認証", "Normal password")

THUNDERBIRD = MailClient(
    id="thunderbird",
    name=T("Thunderbird", "Thunderbird"),
    platforms=T(
        "Windows / macOS / Linux（Thunderbird 128 以降）",
        "Windows / macOS / Linux (Thunderbird 128 or later)",
    ),
    protocols=("pop3", "imap"),
    protocol_names={"pop3": T("POP3", "POP3"), "imap": T("IMAP", "IMAP")},
    incoming=TB_SECURITY,
    outgoing=TB_SECURITY,
    auth=Auth(label=T("認証方式", "Authentication method"), value=TB_NORMAL_PASSWORD),
    screens=(
        Screen(
            title=T("既存のメールアドレスのセットアップ", "Set Up Your Existing Email Address"),
            how=T(
                "≡（アプリケーションメニュー）→「新しいアカウント」→「既存のメールアドレス」"
                "（最新版では「メール」）",
                "≡ (application menu) → New Account → Email (older versions: Existing Email)",
                # ja: thunderbird-l10n ja/mail/messenger/appmenu.ftl (appmenu-new-mail-account,
                # appmenu-new-email-account); en "Email": comm-central en-US appmenu.ftl.
                # unverified: the older en label "Existing Email" (gone from en-US today).
            ),
            fields=(
                Field(T("あなたのお名前", "Your full name"), "display_name"),
                Field(T("メールアドレス", "Email address"), "email"),
                Field(
                    T("パスワード", "Password"),
                    "password",
                    note=T(
                        "「パスワードを記憶する」にチェックを入れておくと毎回の入力が不要です。",
                        "Tick “Remember password” so you are not asked every time.",
                    ),
                ),
            ),
            note=T(
                "入力したら「手動設定」をクリックします（自動で見つかった設定は使わず、"
                "次の画面で案内どおりに入力します）。",
                "Then click “Configure manually” (do not keep the settings found "
                "automatically; enter the ones in this guide on the next screen).",
            ),
        ),
        Screen(
            title=T("手動設定", "Manual configuration"),
            how=T(
                "前の画面の「手動設定」をクリックすると表示されます",
                "Shown after you click “Configure manually”",
            ),
            fields=(
                Field(T("受信サーバー: プロトコル", "Incoming server: Protocol"), "protocol"),
                Field(T("受信サーバー: ホスト名", "Incoming server: Hostname"), "incoming_host"),
                Field(T("受信サーバー: ポート番号", "Incoming server: Port"), "incoming_port"),
                Field(
                    T("受信サーバー: 接続の保護", "Incoming server: Connection security"),
                    "incoming_security",
                ),
                Field(
                    T("受信サーバー: 認証方式", "Incoming server: Authentication method"),
                    "fixed",
                    fixed=TB_NORMAL_PASSWORD,
                ),
                Field(T("受信サーバー: ユーザー名", "Incoming server: Username"), "username"),
                Field(T("送信サーバー: ホスト名", "Outgoing server: Hostname"), "outgoing_host"),
                Field(T("送信サーバー: ポート番号", "Outgoing server: Port"), "outgoing_port"),
                Field(
                    T("送信サーバー: 接続の保護", "Outgoing server: Connection security"),
                    "outgoing_security",
                ),
                Field(
                    T("送信サーバー: 認証方式", "Outgoing server: Authentication method"),
                    "smtp_auth",
                ),
                Field(
                    T("送信サーバー: ユーザー名", "Outgoing server: Username"),
                    "outgoing_username",
                ),
            ),
            note=T(
                "「再テスト」をクリックし、問題がなければ「完了」をクリックします。",
                "Click “Re-test”, then “Done”.",
            ),
        ),
        Screen(
            title=T(
                "確認・変更: サーバー設定（受信）", "Check or change: Server Settings (incoming)"
            ),
            how=T(
                "≡ →「アカウント設定」→ 左の一覧でアカウント名の下の「サーバー設定」"
                "（メニューバーでは「ツール」→「アカウント設定」）",
                "≡ → Account Settings → in the left list, Server Settings under the account "
                "(menu bar: Tools → Account Settings)",
            ),
            fields=(
                Field(T("サーバー名", "Server Name"), "incoming_host"),
                Field(T("ポート", "Port"), "incoming_port"),
                Field(T("ユーザー名", "User Name"), "username"),
                Field(
                    T("セキュリティ設定: 接続の保護", "Security Settings: Connection security"),
                    "incoming_security",
                ),
                Field(
                    T("セキュリティ設定: 認証方式", "Security Settings: Authentication method"),
                    "fixed",
                    fixed=TB_NORMAL_PASSWORD,
                ),
            ),
            note=T(
                "すでに設定済みのアカウントを変更する場合はこの画面から始めます。"
                "サーバー名を変えた後は Thunderbird の再起動が必要です。",
                "Start here when changing an account that is already set up. "
                "Restart Thunderbird after changing the server name.",
            ),
        ),
        Screen(
            title=T("確認・変更: 送信 (SMTP) サーバー", "Check or change: Outgoing Server (SMTP)"),
            how=T(
                "「アカウント設定」の左の一覧のいちばん下「送信 (SMTP) サーバー」（Thunderbird 141"
                " 以降は「送信サーバー」）→ このアカウントが使うサーバーを選んで「編集...」",
                "Account Settings → at the bottom of the left list, Outgoing Server (SMTP) "
                "(Thunderbird 141 and later: Outgoing Server) → select the server this account "
                "uses → Edit…",
            ),
            fields=(
                Field(T("サーバー名", "Server Name"), "outgoing_host"),
                Field(T("ポート番号", "Port"), "outgoing_port"),
                Field(T("接続の保護", "Connection security"), "outgoing_security"),
                Field(T("認証方式", "Authentication method"), "smtp_auth"),
                Field(T("ユーザー名", "User Name"), "outgoing_username"),
            ),
            note=T(
                "どの送信サーバーを使っているかは、アカウント名のページ下部の「送信サーバー」欄で"
                "確認できます。同じ送信サーバーを使う他のアカウントにも変更が反映されます。",
                "The account's main page shows which outgoing server it uses (“Outgoing "
                "Server”). Editing it changes every account that uses the same server.",
            ),
        ),
    ),
    warnings=(
        T(
            "Thunderbird 128 以降では、サーバー名と証明書の名前が合わない場合に「セキュリティ例外」"
            "を追加できません。古いサーバー名のままだと接続できないので、サーバー名をこの案内の"
            "名前に変更してください（例外を承認する方法はありません）。",
            "Thunderbird 128 and later offer no security exception when the server name does "
            "not match the certificate. With an old server name you simply cannot connect: "
            "change the server name to the one in this guide (there is no exception to accept).",
        ),
        T(
            "Thunderbird 140 で「STARTTLS（利用可能な場合）」は廃止されました。選択肢は"
            "「なし」「STARTTLS」「SSL/TLS」だけです。",
            "Thunderbird 140 removed “STARTTLS, if available”; the choices are None, STARTTLS "
            "and SSL/TLS only.",
        ),
        T(
            "多くの方が使う Thunderbird 115〜140（ESR 版）では、左の一覧に「送信 (SMTP) サーバー」"
            "と表示されます。141 以降では「送信サーバー」という名前です。",
            "Thunderbird 115–140 (the ESR versions most people run) show “Outgoing Server "
            "(SMTP)” in the left list; from 141 it is called “Outgoing Server”.",
        ),
        T(
            "「警告！ … への接続は暗号化されません」と表示されたら「接続する上での危険性を"
            "理解しました」にはチェックせず、「設定を変更」で接続の保護を案内どおりに直してください。",
            "If “Warning! … does not use encryption” appears, do not tick “I understand the "
            "risks”; click “Change Settings” and set Connection security as in this guide.",
        ),
    ),
    troubleshooting=(
        T(
            "「セキュリティ例外の追加」や証明書エラーが出る場合は、サーバー名がこの案内の名前と"
            "一字一句同じか確認してください。Thunderbird 128 以降では名前の不一致は例外として"
            "承認できないため、サーバー名を直す以外に方法はありません。",
            "If “Add Security Exception” or a certificate error appears, check that the server "
            "name is exactly the one in this guide. Thunderbird 128 and later cannot accept a "
            "name mismatch as an exception; correcting the server name is the only fix.",
        ),
        T(
            "受信はできるのに送信できない場合は「送信 (SMTP) サーバー」（141 以降は「送信"
            "サーバー」）の設定を確認してください。アカウントが別の（古い）送信サーバーを"
            "使っていることがあります。",
            "If receiving works but sending fails, check the Outgoing Server (SMTP) settings "
            "(141 and later: Outgoing Server); the account may still use another (old) outgoing "
            "server from the list.",
        ),
        T(
            "ポートと接続の保護は組で決まります: 995・993・465 は「SSL/TLS」、587 は"
            "「STARTTLS」。組み合わせが違うと接続できません。",
            "Port and Connection security go together: 995, 993 and 465 use SSL/TLS, 587 uses "
            "STARTTLS. A mismatched pair cannot connect.",
        ),
        TS_PASSWORD,
    ),
    sources=(
        "https://support.mozilla.org/ja/kb/automatic-account-configuration",
        "https://support.mozilla.org/ja/kb/manual-account-configuration",
        "https://support.mozilla.org/ja/kb/add-security-exception",
        "https://support.mozilla.org/ja/kb/server-dont-use-encryption",
        "https://github.com/thunderbird/thunderbird-l10n/tree/main/ja/mail",
        "https://github.com/mozilla/releases-comm-central/tree/main/mail/locales/en-US",
    ),
)

# --- 2. Outlook (classic) -------------------------------------------------------------------
# Labels of the 2016-and-later "POP/IMAP アカウントの設定" pane and the SMTP tab confirmed from
# Xserver's Outlook 2016/2019 manuals (screenshots of the real dialogs); Microsoft's own
# help page could not be retrieved here. The four encryption kinds (none / SSL / TLS / auto)
# are documented by Microsoft (PROP_SMTP_SECURE_CONNECTION).

OUTLOOK_SECURITY = Security(
    style="choice",
    # "自動" (Auto) also exists; the guide always names an explicit mode.
    choices={"none": NONE_JA_EN, "ssl": SSL_TLS, "starttls": STARTTLS},
)
# The POP incoming side is one checkbox (no STARTTLS for POP); IMAP has the list.
OUTLOOK_POP_BOX = T(
    "このサーバーでは暗号化された接続 (SSL/TLS) が必要",
    "This server requires an encrypted connection (SSL/TLS)",
)
OUTLOOK_POP_SECURITY = Security(style="ssl-box", box=OUTLOOK_POP_BOX, box_starttls=False)
OUTLOOK_SPA = T(
    "セキュリティで保護されたパスワード認証 (SPA) でのログオンが必要",
    "Require logon using Secure Password Authentication (SPA)",
)

OUTLOOK = MailClient(
    id="outlook",
    name=T(
        "Outlook（クラシック）Microsoft 365 / 2021 / 2019 / 2016",
        "Outlook (classic) for Microsoft 365 / 2021 / 2019 / 2016",
    ),
    platforms=T("Windows", "Windows"),
    protocols=("pop3", "imap"),
    protocol_names={"pop3": T("POP", "POP"), "imap": T("IMAP", "IMAP")},
    incoming=OUTLOOK_SECURITY,
    incoming_by_protocol={"pop3": OUTLOOK_POP_SECURITY},
    outgoing=OUTLOOK_SECURITY,
    auth=Auth(
        label=T(
            "送信サーバー (SMTP) は認証が必要", "My outgoing server (SMTP) requires authentication"
        ),
        value=T(
            "オン ＋「受信メール サーバーと同じ設定を使用する」",
            "On + “Use same settings as my incoming mail server”",
        ),
    ),
    screens=(
        Screen(
            title=T("アカウントの追加", "Add Account"),
            how=T(
                "「ファイル」→「アカウントの追加」",
                "File → Add Account",
            ),
            fields=(
                Field(T("メール アドレス", "Email address"), "email"),
                Field(
                    T(
                        "詳細オプション:「自分で自分のアカウントを手動で設定」",
                        "Advanced options: “Let me set up my account manually”",
                    ),
                    "fixed",
                    fixed=ON,
                ),
            ),
            note=T("入力したら「接続」をクリックします。", "Then click “Connect”."),
        ),
        Screen(
            title=T("詳細設定: アカウントの種類", "Advanced setup: account type"),
            how=T(
                "「接続」の後に表示される一覧から選びます",
                "Choose from the list shown after “Connect”",
            ),
            fields=(
                Field(
                    T("アカウントの種類", "Account type"), "protocol"
                ),  # unverified: heading text (Xserver's screenshots show the list, not its heading)
            ),
        ),
        Screen(
            title=T("POP / IMAP アカウントの設定", "POP / IMAP Account Settings"),
            how=T(
                "アカウントの種類を選ぶと表示されます",
                "Shown after you choose the account type",
            ),
            fields=(
                Field(T("受信メール: サーバー", "Incoming mail: Server"), "incoming_host"),
                Field(T("受信メール: ポート", "Incoming mail: Port"), "incoming_port"),
                Field(
                    T(
                        "受信メール:「このサーバーは暗号化された接続 (SSL/TLS) が必要」",
                        "Incoming mail: “This server requires an encrypted connection (SSL/TLS)”",
                    ),
                    "incoming_security",
                    only="pop3",
                    note=T(
                        "POP の受信側はチェックボックスです（POP の受信で STARTTLS は選べません）。",
                        "For POP the incoming side is a checkbox (Outlook offers no STARTTLS for "
                        "POP).",
                    ),
                ),
                Field(
                    T("受信メール: 暗号化方法", "Incoming mail: Encryption method"),
                    "incoming_security",
                    only="imap",
                ),  # unverified: IMAP incoming list label taken to match the outgoing one
                Field(
                    T("受信メール: " + OUTLOOK_SPA.ja, "Incoming mail: " + OUTLOOK_SPA.en),
                    "fixed",
                    fixed=OFF,
                ),
                Field(T("送信メール: サーバー", "Outgoing mail: Server"), "outgoing_host"),
                Field(T("送信メール: ポート", "Outgoing mail: Port"), "outgoing_port"),
                Field(
                    T("送信メール: 暗号化方法", "Outgoing mail: Encryption method"),
                    "outgoing_security",
                ),
                Field(
                    T("送信メール: " + OUTLOOK_SPA.ja, "Outgoing mail: " + OUTLOOK_SPA.en),
                    "fixed",
                    fixed=OFF,
                ),
            ),
            note=T(
                "暗号化方法は「自動」にせず、案内どおりの項目を選んでください。入力したら「次へ」。",
                "Do not pick “Auto”; choose the encryption method in this guide. Then click "
                "“Next”.",
            ),
        ),
        Screen(
            title=T("パスワードの入力", "Password"),
            how=T("「次へ」の後に表示されます", "Shown after “Next”"),
            fields=(Field(T("パスワード", "Password"), "password"),),
            note=T(
                "「接続」をクリックし、「アカウントが正常に追加されました」と出たら「完了」。",
                "Click “Connect”; when the account has been added, click “Done”.",
            ),
        ),
        Screen(
            title=T(
                "確認・変更: インターネット電子メール設定",
                "Check or change: Internet E-mail Settings",
            ),
            how=T(
                "「ファイル」→「アカウント設定」→「プロファイルの管理」→「電子メール アカウント」"
                "→ アカウントを選んで「変更」（版によっては「アカウント設定」→「アカウント設定」→"
                "「変更」）",
                "File → Account Settings → Manage Profiles → Email Accounts → select the "
                "account → Change (some versions: Account Settings → Account Settings → Change)",
            ),  # unverified: "電子メール アカウント" button wording in the Mail Setup dialog
            fields=(
                Field(T("受信メール サーバー", "Incoming mail server"), "incoming_host"),
                Field(
                    T("送信メール サーバー (SMTP)", "Outgoing mail server (SMTP)"), "outgoing_host"
                ),
                # unverified: ja 「アカウント名」 only from Xserver's Outlook 2016 screenshot; en
                # "User Name" (Logon Information) from Microsoft's "change email settings"
                # steps as quoted by a tutorial site, not from a Microsoft page fetched here.
                Field(T("アカウント名", "User Name"), "username"),
                Field(T("パスワード", "Password"), "password"),
            ),
            note=T(
                "すでに設定済みのアカウントを変更する場合はこの画面から始めます。",
                "Start here when changing an account that is already set up.",
            ),
        ),
        Screen(
            title=T("確認・変更:「送信サーバー」タブ", "Check or change: Outgoing Server tab"),
            how=T(
                "同じ画面の「詳細設定」→「送信サーバー」タブ",
                "Same dialog → More Settings… → Outgoing Server tab",
            ),
            fields=(
                Field(
                    T(
                        "送信サーバー (SMTP) は認証が必要",
                        "My outgoing server (SMTP) requires authentication",
                    ),
                    "smtp_auth",
                ),
                Field(
                    T(
                        "受信メール サーバーと同じ設定を使用する",
                        "Use same settings as my incoming mail server",
                    ),
                    "fixed",
                    fixed=ON,
                ),
            ),
        ),
        Screen(
            title=T("確認・変更:「詳細設定」タブ", "Check or change: Advanced tab"),
            how=T(
                "同じ「詳細設定」の画面の「詳細設定」タブ",
                "Same More Settings dialog → Advanced tab",
            ),
            fields=(
                Field(
                    T("受信サーバー (POP3)", "Incoming server (POP3)"), "incoming_port", only="pop3"
                ),
                Field(OUTLOOK_POP_BOX, "incoming_security", only="pop3"),
                Field(
                    T("受信サーバー (IMAP)", "Incoming server (IMAP)"), "incoming_port", only="imap"
                ),
                Field(
                    T(
                        "使用する暗号化接続の種類（受信）",
                        "Use the following type of encrypted connection (incoming)",
                    ),
                    "incoming_security",
                    only="imap",
                ),
                Field(T("送信サーバー (SMTP)", "Outgoing server (SMTP)"), "outgoing_port"),
                Field(
                    T(
                        "使用する暗号化接続の種類（送信）",
                        "Use the following type of encrypted connection (outgoing)",
                    ),
                    "outgoing_security",
                ),
            ),
            note=T(
                "暗号化の種類を変えるとポート番号が自動で変わることがあります。最後にポート番号を"
                "もう一度案内どおりに直してから「OK」をクリックしてください。",
                "Changing the encryption type may change the port number by itself; set the "
                "port again as in this guide before clicking OK.",
            ),
        ),
    ),
    warnings=(
        T(
            "Outlook 2010 / 2013 では一覧が「なし / SSL / TLS / 自動」で、「TLS」が STARTTLS、"
            "「SSL」が最初から暗号化する方式（SSL/TLS）です。この案内の画面は 2016 以降のものです。",
            "Outlook 2010 / 2013 list None / SSL / TLS / Auto: there “TLS” means STARTTLS and "
            "“SSL” means implicit TLS (SSL/TLS). The screens in this guide are those of 2016 "
            "and later.",
        ),
        T(
            "「セキュリティで保護されたパスワード認証 (SPA)」はオフのままにしてください。"
            "オンにするとログインできません。",
            "Leave “Secure Password Authentication (SPA)” off; with it on you cannot log in.",
        ),
        T(
            "POP の受信は「暗号化された接続 (SSL/TLS) が必要」のチェックボックスだけで、"
            "STARTTLS は選べません。そのため POP の受信はポート 995 でチェックを入れて設定します。",
            "For POP incoming mail Outlook has only the “encrypted connection (SSL/TLS)” "
            "checkbox and no STARTTLS, so POP is set up on port 995 with the box ticked.",
        ),
        T(
            "サーバーの証明書について警告（セキュリティ警告）が出ても「はい」で続行しないでください。",
            "If a security alert about the server's certificate appears, do not click “Yes” "
            "to continue.",
        ),
        T(
            "画面右上に「新しい Outlook」の切り替えがあり、オンになっている場合は画面が違います。"
            "その場合は「新しい Outlook for Windows」の案内をご覧ください。",
            "If the “New Outlook” toggle at the top right is on, the screens differ; use the "
            "guide for new Outlook for Windows instead.",
        ),
    ),
    troubleshooting=(
        TS_CERT_NAME,
        T(
            "送信だけできない場合は「送信サーバー」タブの認証と、「詳細設定」タブの送信サーバー"
            "(SMTP) のポート番号と暗号化の種類の組（465 と SSL/TLS、587 と STARTTLS）を確認して"
            "ください。",
            "If only sending fails, check authentication on the Outgoing Server tab and the "
            "SMTP port / encryption pair on the Advanced tab (465 with SSL/TLS, 587 with "
            "STARTTLS).",
        ),
        TS_RECEIVE_ONLY,
        TS_PASSWORD,
    ),
    sources=(
        "https://support.microsoft.com/ja-jp/office/6e27792a-9267-4aa4-8bb6-c84ef146101b",  # unverified: not retrievable here
        "https://learn.microsoft.com/ja-jp/office/client-developer/outlook/auxiliary/prop_smtp_secure_connection",
        "https://www.xserver.ne.jp/manual/man_mail_setting_ol2016.php",  # hosting company's manual (screenshots)
        "https://www.xserver.ne.jp/manual/man_mail_setting_ol2019.php",  # hosting company's manual (screenshots)
    ),
)

# --- 3. new Outlook for Windows -------------------------------------------------------------
# Japanese labels from Xserver's manual for "Outlook for Windows / Outlook (new)"
# (screenshots of the real dialogs). English labels are unverified.

NEW_OUTLOOK_SECURITY = Security(
    style="choice",
    choices={
        "ssl": T("SSL/TLS (推奨)", "SSL/TLS (recommended)"),
        "starttls": STARTTLS,  # unverified: STARTTLS entry of the list
        # unverified: whether "None" is offered; left out so a guide never suggests plain text
    },
)

NEW_OUTLOOK = MailClient(
    id="new_outlook",
    name=T("新しい Outlook for Windows", "new Outlook for Windows"),
    platforms=T("Windows 10 / 11", "Windows 10 / 11"),
    protocols=("pop3", "imap"),
    protocol_names={"pop3": T("POP", "POP"), "imap": T("IMAP", "IMAP")},
    incoming=NEW_OUTLOOK_SECURITY,
    outgoing=NEW_OUTLOOK_SECURITY,
    auth=Auth(
        label=T("SMTP ユーザー名 / SMTP パスワード", "SMTP username / SMTP password"),
        value=T(
            "受信と同じユーザー名とパスワード",
            "The same user name and password as for incoming mail",
        ),
    ),
    screens=(
        Screen(
            title=T("アカウントの追加", "Add account"),
            how=T(
                "「設定」（歯車）→「アカウント」→「メール アカウント」→「アカウントの追加」",
                "Settings (gear) → Accounts → Email accounts → Add account",
            ),  # unverified: "メール アカウント" menu entry; Xserver shows the gear and "アカウント"
            fields=(Field(T("メール アドレス", "Email address"), "email"),),
            note=T("入力したら「続行」をクリックします。", "Then click “Continue”."),
        ),
        Screen(
            title=T("プロバイダーを選択", "Choose a provider"),
            how=T(
                "画面右下の「プロバイダーを選択」",
                "“Choose a provider” at the bottom right",
            ),
            fields=(Field(T("プロバイダー", "Provider"), "protocol"),),
        ),
        Screen(
            title=T("IMAP / POP アカウントの設定", "IMAP / POP account settings"),
            how=T("プロバイダーを選ぶと表示されます", "Shown after you choose the provider"),
            fields=(
                Field(T("パスワード", "Password"), "password"),
                Field(
                    T("表示数を増やす", "Show more"), "fixed", fixed=ON
                ),  # unverified: en (Xserver's manual shows the Japanese UI only)
                Field(
                    T("おすすめの設定を使用する", "Use recommended settings"), "fixed", fixed=OFF
                ),  # unverified: en (Xserver's manual shows the Japanese UI only)
                # unverified: en (only the ja screenshots of Xserver's manual were available)
                Field(T("IMAP / POP ユーザー名", "IMAP / POP username"), "username"),
                Field(T("IMAP / POP 受信サーバー", "IMAP / POP incoming server"), "incoming_host"),
                Field(T("ポート", "Port"), "incoming_port"),
                Field(T("セキュア接続タイプ", "Secure connection type"), "incoming_security"),
                Field(T("SMTP ユーザー名", "SMTP username"), "outgoing_username"),
                Field(T("SMTP パスワード", "SMTP password"), "password"),
                Field(T("SMTP 送信サーバー", "SMTP outgoing server"), "outgoing_host"),
                Field(T("ポート", "Port"), "outgoing_port"),
                Field(T("セキュア接続タイプ", "Secure connection type"), "outgoing_security"),
            ),
            note=T(
                "入力したら「続行」をクリックし、続く画面を確認して完了します。",
                "Click “Continue” and confirm the following screens.",
            ),
        ),
        Screen(
            title=T("確認・変更: アカウントの管理", "Check or change: Manage account"),
            how=T(
                "「設定」（歯車）→「アカウント」→ 対象のメール アドレスの「管理」→「修復」",
                "Settings (gear) → Accounts → Manage next to the address → Repair",
            ),  # unverified: en (Xserver's manual shows the Japanese UI only)
            fields=(
                Field(T("パスワード", "Password"), "password"),
                Field(T("SMTP 送信サーバー", "SMTP outgoing server"), "outgoing_host"),
                Field(T("ポート", "Port"), "outgoing_port"),
                Field(T("セキュア接続タイプ", "Secure connection type"), "outgoing_security"),
            ),
            note=T(
                "受信サーバー、受信のポートとセキュア接続タイプ、SMTP ユーザー名は後から変更"
                "できません。違っている場合はアカウントを削除して追加し直してください。",
                "The incoming server, its port and secure connection type, and the SMTP "
                "username cannot be changed later; if they are wrong, remove the account and "
                "add it again.",
            ),
        ),
    ),
    warnings=(
        T(
            "受信サーバーの設定は後から変更できません。サーバー名の変更をご案内している場合は、"
            "アカウントを削除して追加し直す必要があります。",
            "Incoming server settings cannot be edited later. When a server name changes, "
            "remove the account and add it again.",
        ),
        T(
            "新しい Outlook では、POP / IMAP のアカウントは Microsoft のクラウドを経由して同期"
            "されます。お使いのパソコンからではなく Microsoft のサーバーから接続されます。",
            "New Outlook syncs POP / IMAP accounts through the Microsoft cloud: the "
            "connection to our servers comes from Microsoft's servers, not from your computer.",
        ),  # unverified: Microsoft's wording on cloud sync of third-party accounts
    ),
    troubleshooting=(
        TS_CERT_NAME,
        TS_SEND_ONLY,
        TS_PASSWORD,
    ),
    sources=(
        "https://support.microsoft.com/ja-jp/office/6e27792a-9267-4aa4-8bb6-c84ef146101b",  # unverified: not retrievable here
        "https://www.xserver.ne.jp/manual/man_mail_setting_olwin.php",  # hosting company's manual (screenshots)
    ),
)

# --- 4. Windows Live Mail 2012 --------------------------------------------------------------
# Japanese labels from Xserver's Windows Live Mail manual (screenshots); English labels
# from a hosting company's Windows Live Mail instructions (worthers.com).

WLM_BOX = T(
    "このサーバーはセキュリティで保護された接続 (SSL) が必要",
    "This server requires a secure connection (SSL)",
)

WINDOWS_LIVE_MAIL = MailClient(
    id="windows_live_mail",
    name=T("Windows Live メール 2012", "Windows Live Mail 2012"),
    platforms=T("Windows 7 / 8.1 / 10（サポート終了）", "Windows 7 / 8.1 / 10 (unsupported)"),
    protocols=("pop3", "imap"),
    protocol_names={"pop3": T("POP3", "POP3"), "imap": T("IMAP", "IMAP")},
    incoming=Security(style="ssl-box", box=WLM_BOX),
    # The one SSL box follows the port: ticked on 587 (or 25) it issues STARTTLS, on 465 it
    # uses implicit TLS (graded in issue 14; the seed's companion page sends on 587 with it).
    outgoing=Security(style="ssl-box", box=WLM_BOX, box_starttls=True),
    auth=Auth(
        label=T("このサーバーは認証が必要", "My server requires authentication"),
        value=T(
            "オン ＋「設定」→「受信メール サーバーと同じ設定を使用する」",
            "On + Settings… → “Use same settings as my incoming mail server”",
        ),
    ),
    legacy=True,  # Windows Essentials 2012 (incl. Windows Live Mail) support ended January 2017
    screens=(
        Screen(
            title=T("電子メール アカウントの追加", "Add your email accounts"),
            how=T(
                "「アカウント」タブ →「電子メール」",
                "Accounts tab → Email",
            ),
            fields=(
                Field(T("電子メール アドレス", "Email address"), "email"),
                Field(T("パスワード", "Password"), "password"),
                Field(T("表示名", "Display name for your sent messages"), "display_name"),
                Field(
                    T("手動でサーバー設定を構成する", "Manually configure server settings"),
                    "fixed",
                    fixed=ON,
                ),
            ),
            note=T("入力したら「次へ」をクリックします。", "Then click “Next”."),
        ),
        Screen(
            title=T("サーバー設定を構成", "Configure server settings"),
            how=T("「次へ」の後に表示されます", "Shown after “Next”"),
            fields=(
                Field(
                    T(
                        "受信サーバー情報: サーバーの種類",
                        "Incoming server information: Server type",
                    ),
                    "protocol",
                ),
                Field(
                    T("受信サーバー情報: サーバーのアドレス", "Incoming: Server address"),
                    "incoming_host",
                ),
                Field(T("受信サーバー情報: ポート", "Incoming: Port"), "incoming_port"),
                Field(
                    T(
                        "受信: セキュリティで保護された接続 (SSL) が必要",
                        "Incoming: Requires a secure connection (SSL)",
                    ),
                    "incoming_security",
                ),
                Field(
                    T("受信: 次を使用して認証する", "Incoming: Authenticate using"),
                    "fixed",
                    fixed=T("クリア テキスト", "Clear text"),
                ),
                Field(T("受信: ログオン ユーザー名", "Incoming: Logon user name"), "username"),
                Field(
                    T(
                        "送信サーバー情報: サーバーのアドレス",
                        "Outgoing server information: Server address",
                    ),
                    "outgoing_host",
                ),
                Field(T("送信: ポート", "Outgoing: Port"), "outgoing_port"),
                Field(
                    T(
                        "送信: セキュリティで保護された接続 (SSL) が必要",
                        "Outgoing: Requires a secure connection (SSL)",
                    ),
                    "outgoing_security",
                ),
                Field(T("送信: 認証が必要", "Outgoing: Requires authentication"), "smtp_auth"),
            ),
            note=T("入力したら「次へ」→「完了」。", "Then click “Next” and “Finish”."),
        ),
        Screen(
            title=T(
                "確認・変更: プロパティの「サーバー」タブ",
                "Check or change: Properties, Servers tab",
            ),
            how=T(
                "「アカウント」タブ →「プロパティ」（または左のアカウント名を右クリック →"
                "「プロパティ」）→「サーバー」タブ",
                "Accounts tab → Properties (or right-click the account → Properties) → Servers tab",
            ),
            fields=(
                Field(T("受信メール", "Incoming mail"), "incoming_host"),
                Field(T("送信メール (SMTP)", "Outgoing mail (SMTP)"), "outgoing_host"),
                # unverified: neither manual's screenshot shows this tab's user-name row clearly
                Field(T("ユーザー名", "User name"), "username"),
                Field(T("パスワード", "Password"), "password"),
                Field(
                    T(
                        "クリア テキスト認証を使用してログオンする",
                        "Log on using clear text authentication",
                    ),
                    "fixed",
                    fixed=ON,
                ),  # unverified: ja wording (Xserver's screenshot of this tab is too small to read)
                Field(
                    T("このサーバーは認証が必要", "My server requires authentication"), "smtp_auth"
                ),
            ),
            note=T(
                "すでに設定済みのアカウントを変更する場合はこの画面から始めます。",
                "Start here when changing an account that is already set up.",
            ),
        ),
        Screen(
            title=T("確認・変更:「詳細設定」タブ", "Check or change: Advanced tab"),
            how=T("同じプロパティの「詳細設定」タブ", "Same Properties → Advanced tab"),
            fields=(
                Field(T("送信メール (SMTP)", "Outgoing mail (SMTP)"), "outgoing_port"),
                Field(WLM_BOX, "outgoing_security", note=T("送信側", "Outgoing side")),
                Field(T("受信メール (POP3)", "Incoming mail (POP3)"), "incoming_port", only="pop3"),
                Field(T("受信メール (IMAP)", "Incoming mail (IMAP)"), "incoming_port", only="imap"),
                Field(WLM_BOX, "incoming_security", note=T("受信側", "Incoming side")),
            ),
            note=T(
                "チェックを入れるとポート番号が自動で変わることがあります。最後にポート番号を"
                "案内どおりに直してから「OK」をクリックしてください。",
                "Ticking the box may change the port; set the port again as in this guide, "
                "then click OK.",
            ),
        ),
    ),
    warnings=(
        T(
            "Windows Live メールは 2017 年 1 月にマイクロソフトのサポートが終了しています。"
            "不具合や安全上の問題は修正されません。新しいメールソフトへの移行をおすすめします。",
            "Windows Live Mail has been unsupported by Microsoft since January 2017; bugs and "
            "security problems are no longer fixed. We recommend moving to a current program.",
        ),
        box_follows_port(WLM_BOX),
        T(
            "証明書の警告が表示された場合は「はい」で続行せず、サーバー名を確認してください。",
            "If a certificate warning appears, do not click “Yes” to continue; check the "
            "server name.",
        ),
    ),
    troubleshooting=(
        TS_CERT_NAME,
        T(
            "送信だけできない場合は「詳細設定」タブで送信メール (SMTP) のポート番号がこの案内"
            "どおりでチェックありか、「サーバー」タブで「このサーバーは認証が必要」がオンかを"
            "確認してください。",
            "If only sending fails, check on the Advanced tab that the Outgoing mail (SMTP) port "
            "is the one in this guide with the box ticked, and on the Servers tab that “My "
            "server requires authentication” is on.",
        ),
        T(
            "Windows 7 では TLS 1.2 が既定で有効になっていない場合があり、サーバーが TLS 1.2 "
            "以上だけを受け付けると接続できません。",
            "On Windows 7, TLS 1.2 may not be enabled by default; then the program cannot "
            "connect once the servers accept only TLS 1.2 or later.",
        ),  # unverified: SChannel client defaults on Windows 7 as seen by Windows Live Mail
        TS_PASSWORD,
    ),
    sources=(
        "https://www.xserver.ne.jp/manual/man_mail_setting_wlm.php",  # hosting company's manual (screenshots)
        "https://worthers.com/knowledgebase/126/Checking-and-securing-your-email-in-Microsoft-Live-Mail.html",  # hosting company (English labels)
        "https://euc-access-excel-db.com/tips/ct07_se/ct070701_clntpc_make/ssl_windows-live-mail-2012",  # the seed's companion page
    ),
)

# --- 5. Outlook Express 6 -------------------------------------------------------------------
# Labels from Xserver's Outlook Express manual (screenshots) and the seed document.

OE_BOX = T(
    "このサーバーはセキュリティで保護された接続 (SSL) が必要",
    "This server requires a secure connection (SSL)",
)

OUTLOOK_EXPRESS = MailClient(
    id="outlook_express",
    name=T("Outlook Express 6", "Outlook Express 6"),
    platforms=T("Windows XP（サポート終了）", "Windows XP (unsupported)"),
    protocols=("pop3", "imap"),
    protocol_names={"pop3": T("POP3", "POP3"), "imap": T("IMAP", "IMAP")},
    incoming=Security(style="ssl-box", box=OE_BOX),
    # Like Windows Live Mail: ticked on 587 (or 25) STARTTLS, on 465 implicit TLS.
    outgoing=Security(style="ssl-box", box=OE_BOX, box_starttls=True),
    auth=Auth(
        label=T("このサーバーは認証が必要", "My server requires authentication"),
        value=T(
            "オン ＋「設定」→「受信メール サーバーと同じ設定を使用する」",
            "On + Settings… → “Use same settings as my incoming mail server”",
        ),
    ),
    legacy=True,
    tls12=False,
    screens=(
        Screen(
            title=T("アカウントのプロパティ:「全般」タブ", "Account properties: General tab"),
            how=T(
                "「ツール」→「アカウント」→「メール」タブ → アカウントを選んで「プロパティ」",
                "Tools → Accounts → Mail tab → select the account → Properties",
            ),
            fields=(
                Field(T("名前", "Name"), "display_name"),
                Field(T("電子メール アドレス", "E-mail address"), "email"),
            ),
        ),
        Screen(
            title=T("「サーバー」タブ", "Servers tab"),
            how=T("同じプロパティの「サーバー」タブ", "Same Properties → Servers tab"),
            fields=(
                Field(
                    T("受信メール サーバーの種類", "My incoming mail server is a"),
                    "protocol",
                    note=T(
                        "表示だけで、ここでは変更できません。",
                        "Shown only; it cannot be changed here.",
                    ),
                ),
                Field(T("受信メール (POP3)", "Incoming mail (POP3)"), "incoming_host", only="pop3"),
                Field(T("受信メール (IMAP)", "Incoming mail (IMAP)"), "incoming_host", only="imap"),
                Field(T("送信メール (SMTP)", "Outgoing mail (SMTP)"), "outgoing_host"),
                Field(T("アカウント名", "Account name"), "username"),
                Field(T("パスワード", "Password"), "password"),
                Field(
                    T(
                        "セキュリティで保護されたパスワード認証でログオンする",
                        "Log on using Secure Password Authentication",
                    ),
                    "fixed",
                    fixed=OFF,
                ),
                Field(
                    T("このサーバーは認証が必要", "My server requires authentication"), "smtp_auth"
                ),
            ),
        ),
        Screen(
            title=T("「詳細設定」タブ", "Advanced tab"),
            how=T("同じプロパティの「詳細設定」タブ", "Same Properties → Advanced tab"),
            fields=(
                Field(
                    T(
                        "サーバーのポート番号: 送信メール (SMTP)",
                        "Server Port Numbers: Outgoing mail (SMTP)",
                    ),
                    "outgoing_port",
                ),
                Field(OE_BOX, "outgoing_security", note=T("送信側", "Outgoing side")),
                Field(T("受信メール (POP3)", "Incoming mail (POP3)"), "incoming_port", only="pop3"),
                Field(T("受信メール (IMAP)", "Incoming mail (IMAP)"), "incoming_port", only="imap"),
                Field(OE_BOX, "incoming_security", note=T("受信側", "Incoming side")),
            ),
            note=T(
                "送信側・受信側それぞれのチェックとポート番号を案内どおりにして「OK」を"
                "クリックします。",
                "Set each side's box and port as in this guide, then click OK.",
            ),
        ),
    ),
    warnings=(
        T(
            "Outlook Express と Windows XP はマイクロソフトのサポートが終了しています"
            "（2014 年 4 月）。安全に使い続けることはできません。",
            "Outlook Express and Windows XP are no longer supported by Microsoft (April 2014) "
            "and cannot be used safely.",
        ),
        T(
            "Windows XP は TLS 1.2 で通信できません。サーバーが TLS 1.2 以上だけを受け付ける"
            "ようになると、この案内どおりに設定しても送受信できなくなります。",
            "Windows XP cannot use TLS 1.2. Once the servers accept only TLS 1.2 or later, "
            "mail stops working even with these settings.",
        ),
        T(
            "起動するたびに（最初の送受信のたびに）証明書の警告が表示されることがあります。"
            "まずサーバー名がこの案内どおりか確認してください。",
            "A certificate warning may appear at every start (at the first send/receive). "
            "First check that the server names are exactly as in this guide.",
        ),
        box_follows_port(OE_BOX),
    ),
    troubleshooting=(
        T(
            "起動のたびに証明書の警告が出る場合は、受信・送信のサーバー名がこの案内の名前と"
            "一字一句同じか確認してください。名前が合っていれば警告は出ません。",
            "If a certificate warning appears at every start, check that the incoming and "
            "outgoing server names are exactly the ones in this guide; with the right name the "
            "warning does not appear.",
        ),
        T(
            "受信はできるのに送信できない場合は、「詳細設定」タブで送信メール (SMTP) のポート"
            "番号がこの案内どおりでチェックありか、「サーバー」タブで「このサーバーは認証が"
            "必要」がオンかを確認してください。",
            "If receiving works but sending fails, check on the Advanced tab that the Outgoing "
            "mail (SMTP) port is the one in this guide with the box ticked, and on the Servers "
            "tab that “My server requires authentication” is on.",
        ),
        TS_XP_TLS12,
    ),
    sources=(
        "https://www.xserver.ne.jp/manual/man_mail_setting_ole.php",  # hosting company's manual (screenshots)
        "https://euc-access-excel-db.com/tips/ct07_se/ct070701_clntpc_make/mail-config-ssl",  # the seed document
    ),
)

# --- 6. Shuriken ----------------------------------------------------------------------------
# Wording from the seed document (a user's write-up of the real screens); no JustSystems
# page could be retrieved here.

# The seed quotes the boxes as 「SSLを使用: する」「STARTTLSを使用: しない」 (DESIGN.md the same);
# unverified: whether the on-screen labels end in "する" (「SSLを使用する」).
SHURIKEN_SSL = T("SSLを使用", "SSLを使用 (use SSL)")
SHURIKEN_STARTTLS = T("STARTTLSを使用", "STARTTLSを使用 (use STARTTLS)")
SHURIKEN_SECURITY = Security(
    style="two-boxes",
    box=SHURIKEN_SSL,
    starttls_box=SHURIKEN_STARTTLS,
    on=T("する（チェックを入れる）", "On (checked)"),
    off=T("しない（チェックを外す）", "Off (unchecked)"),
)

SHURIKEN = MailClient(
    id="shuriken",
    name=T("Shuriken（シュリケン）", "Shuriken (JustSystems)"),
    platforms=T("Windows", "Windows"),
    protocols=("pop3", "imap"),  # Shuriken reads IMAP too (issue 14, graded against the program)
    protocol_names={"pop3": T("POP3", "POP3"), "imap": T("IMAP4", "IMAP4")},
    incoming=SHURIKEN_SECURITY,
    outgoing=SHURIKEN_SECURITY,
    server_word="サーバ",
    auth=Auth(
        label=T("SMTP認証", "SMTP認証 (SMTP authentication)"),
        value=T(
            "する ＋「SMTP認証に受信サーバ設定を使う」: 使う",
            "On + “SMTP認証に受信サーバ設定を使う” (use the incoming server settings): on",
        ),
    ),
    screens=(
        Screen(
            title=T("アカウントの設定:【受信】", "Account settings: 受信 (incoming)"),
            how=T(
                "「ツール」→「アカウントの設定」→ 該当のアカウント →【受信】",
                "Tools → Account settings → the account → 受信 (incoming)",
            ),  # unverified: menu path (the seed does not give it)
            fields=(
                # unverified: the IMAP labels 「受信方式」「IMAPサーバ」 follow the POP ones by
                # analogy; no JustSystems page or screenshot manual for IMAP was retrievable.
                Field(T("受信方式", "受信方式 (protocol)"), "protocol", only="imap"),
                Field(T("POPサーバ", "POPサーバ (POP server)"), "incoming_host", only="pop3"),
                Field(T("IMAPサーバ", "IMAPサーバ (IMAP server)"), "incoming_host", only="imap"),
                Field(T("ユーザー名", "ユーザー名 (user name)"), "username"),
                Field(T("パスワード", "パスワード (password)"), "password"),
                Field(T("ポート番号", "ポート番号 (port)"), "incoming_port"),
                Field(SHURIKEN_SSL, "incoming_security"),
                Field(
                    T("└ STARTTLSを使用", "└ STARTTLSを使用 (use STARTTLS)"),
                    "incoming_starttls",
                    note=T(
                        "995・993 では「しない」。「する」にすると受信できなくなります。",
                        "Off for ports 995 and 993; with it on, receiving fails.",
                    ),
                ),
            ),
        ),
        Screen(
            title=T("アカウントの設定:【送信】", "Account settings: 送信 (outgoing)"),
            how=T("同じ画面の【送信】", "Same dialog → 送信 (outgoing)"),
            fields=(
                Field(T("SMTPサーバ", "SMTPサーバ (SMTP server)"), "outgoing_host"),
                Field(T("ポート番号", "ポート番号 (port)"), "outgoing_port"),
                Field(SHURIKEN_SSL, "outgoing_security"),
                Field(
                    T("└ STARTTLSを使用", "└ STARTTLSを使用 (use STARTTLS)"),
                    "outgoing_starttls",
                    note=T(
                        "587 では「する」。「しない」にすると送信できなくなります。",
                        "On for port 587; with it off, sending fails.",
                    ),
                ),
                Field(
                    T("送信前に受信する（POP before SMTP）", "POP before SMTP"),
                    "fixed",
                    fixed=T("しない", "Off"),
                ),  # unverified: exact label (the seed quotes it truncated)
                Field(T("SMTP認証", "SMTP認証 (SMTP authentication)"), "smtp_auth"),
                Field(
                    T(
                        "SMTP認証に受信サーバ設定を使う",
                        "SMTP認証に受信サーバ設定を使う (use incoming settings)",
                    ),
                    "fixed",
                    fixed=T("使う", "On"),
                ),
            ),
        ),
    ),
    warnings=(
        T(
            "「SSLを使用」と「STARTTLSを使用」は組み合わせで決まります: 受信 995（IMAP は 993）"
            "と送信 465 は「SSL: する／STARTTLS: しない」、送信 587 は「SSL: する／STARTTLS: する」"
            "です。組み合わせを間違えると送受信できません。",
            "The two boxes work together: incoming 995 (IMAP: 993) and outgoing 465 are SSL on / "
            "STARTTLS off, outgoing 587 is SSL on / STARTTLS on. The wrong combination fails.",
        ),
        T(
            "Shuriken 2016 は初期状態では TLS 1.2 で接続できません。サーバーが TLS 1.2 以上だけを"
            "受け付けると「通信エラーが発生しました。(SSL/TLS通信中にエラーが発生しました。)」"
            "などと表示されて送受信できなくなります。ジャストシステムのサポートページの案内に"
            "従って Shuriken を最新の状態に更新し、Windows で TLS 1.2 を有効にしてください"
            "（Windows 7 では Windows Update も必要です）。SSL を外して回避しないでください。"
            "Shuriken 2017 以降の最新版では不要です。",
            "Shuriken 2016 cannot connect with TLS 1.2 out of the box. Once the servers accept "
            "only TLS 1.2 or later it reports a communication error (SSL/TLS) and cannot send or "
            "receive. Follow JustSystems' support page: update Shuriken to its latest update and "
            "enable TLS 1.2 in Windows (Windows 7 also needs Windows Update). Do not turn SSL "
            "off to get around it. Current Shuriken 2017 or later does not need this.",
        ),
        T(
            "古いバージョンでは、起動するたびに証明書のエラーが表示されることがあります。"
            "まずサーバー名がこの案内どおりか確認してください。",
            "Older versions may show a certificate error at every start; first check that the "
            "server names are exactly as in this guide.",
        ),
    ),
    troubleshooting=(
        TS_CERT_NAME,
        T(
            "送信だけできない場合は【送信】の「STARTTLSを使用」が「する」か（587 の場合）、"
            "「SMTP認証」が「する」かを確認してください。",
            "If only sending fails, check in 送信 that STARTTLS is on (for port 587) and that "
            "SMTP認証 is on.",
        ),
        T(
            "受信だけできない場合は【受信】の「STARTTLSを使用」が「しない」か（995・993 の場合）"
            "確認してください。",
            "If only receiving fails, check in 受信 that STARTTLS is off (for ports 995 and 993).",
        ),
        TS_PASSWORD,
    ),
    sources=(
        "https://euc-access-excel-db.com/tips/ct07_se/ct070701_clntpc_make/mail-config-ssl",  # the seed document
        "https://www.justsystems.com/jp/products/shuriken/",  # unverified: not retrievable here
        # a user's report quoting JustSystems' support page on Shuriken 2016 and TLS 1.2:
        "http://153.126.154.182/usr7/bin/month?id=75950&pg=202508",
    ),
)

# --- 7. Becky! Internet Mail ----------------------------------------------------------------
# Labels from Xserver's Becky! Internet Mail Ver.2 manuals (screenshots of the dialogs);
# the Rimarts help could not be retrieved here. Becky! writes サーバー.

BECKY = MailClient(
    id="becky",
    name=T("Becky! Internet Mail", "Becky! Internet Mail"),
    platforms=T("Windows（Ver.2）", "Windows (Ver.2)"),
    protocols=("pop3", "imap"),
    protocol_names={
        "pop3": T("POP3", "POP3"),
        "imap": T("IMAP4rev1", "IMAP4rev1"),
    },  # unverified: IMAP entry (Xserver's Becky! manual covers POP3 only; no Rimarts help here)
    incoming=Security(style="ssl-box", box=T("POP3S／IMAPS", "POP3S / IMAPS")),
    # unverified: whether checking SMTPS on port 587 does STARTTLS; the guide uses 465.
    outgoing=Security(style="ssl-box", box=T("SMTPS", "SMTPS"), box_starttls=False),
    auth=Auth(
        label=T("SMTP認証（「詳細」タブ）", "SMTP Authentication (Advanced tab)"),
        value=T(
            "オン（「LOGIN」「PLAIN」「ESMTPを使用」にもチェック）",
            "On (also tick LOGIN, PLAIN and “Use ESMTP”)",
        ),
    ),
    screens=(
        Screen(
            title=T("メールボックスの設定:「基本設定」タブ", "Mailbox settings: Basic tab"),
            how=T(
                "「ツール」→「メールボックスの設定」→「基本設定」タブ",
                "Tools → Mailbox Setup → Basic tab",
            ),  # unverified: English UI wording (Becky! is used in Japanese here; no English manual)
            fields=(
                Field(T("名前", "Name"), "display_name"),
                Field(T("メールアドレス", "Email address"), "email"),
                Field(T("受信プロトコル", "Receiving protocol"), "protocol"),
                Field(
                    T("POP3サーバー（受信）", "POP3 server (incoming)"),
                    "incoming_host",
                    only="pop3",
                ),
                Field(
                    T("IMAP4サーバー（受信）", "IMAP4 server (incoming)"),
                    "incoming_host",
                    only="imap",
                ),  # unverified: Xserver's Becky! manual covers POP3 only; no Rimarts help here
                Field(T("SMTPサーバー（送信）", "SMTP server (outgoing)"), "outgoing_host"),
                Field(T("POP3S", "POP3S"), "incoming_security", only="pop3"),
                Field(
                    T("IMAPS", "IMAPS"), "incoming_security", only="imap"
                ),  # unverified: label text (as for IMAP4サーバー above)
                Field(T("SMTPS", "SMTPS"), "outgoing_security"),
                Field(
                    T("OP25B", "OP25B"),
                    "fixed",
                    fixed=ON,
                    note=T(
                        "ポート番号は「詳細」タブで指定します。",
                        "The port numbers are set on the Advanced tab.",
                    ),
                ),
                Field(T("ユーザーID", "User ID"), "username"),
                Field(T("パスワード", "Password"), "password"),
                Field(T("認証方式", "Authentication"), "fixed", fixed=T("標準", "Standard")),
            ),
            note=T(
                "チェックを入れたときに「ポート番号を 995（465）に変更しますか」と聞かれたら"
                "「はい」をクリックします。",
                "If asked whether to change the port to 995 (465) when ticking a box, click Yes.",
            ),
        ),
        Screen(
            title=T("「詳細」タブ", "Advanced tab"),
            how=T("同じ画面の「詳細」タブ", "Same dialog → Advanced tab"),
            fields=(
                Field(T("サーバーのポート番号: SMTP", "Server port: SMTP"), "outgoing_port"),
                Field(
                    T("サーバーのポート番号: POP3", "Server port: POP3"),
                    "incoming_port",
                    only="pop3",
                ),
                Field(
                    T("サーバーのポート番号: IMAP4", "Server port: IMAP4"),
                    "incoming_port",
                    only="imap",
                ),
                Field(T("SMTP認証", "SMTP Authentication"), "smtp_auth"),
                Field(T("POP before SMTPを使用", "Use POP before SMTP"), "fixed", fixed=OFF),
                Field(
                    T(
                        "ESMTPを使用（SMTP認証には必須）",
                        "Use ESMTP (required for SMTP authentication)",
                    ),
                    "fixed",
                    fixed=ON,
                ),
                Field(
                    T("SSL/TLS関連: 受信用 / 送信用", "SSL/TLS: for receiving / for sending"),
                    "fixed",
                    fixed=T("デフォルト", "Default"),
                ),
                Field(
                    T("証明書を検証しない", "Do not verify certificates"),
                    "fixed",
                    fixed=OFF,
                    note=T(
                        "ここにチェックを入れると偽のサーバーに気付けなくなります。必ず外してください。",
                        "With this ticked you cannot notice a fake server; always leave it off.",
                    ),
                ),
            ),
            note=T("「OK」をクリックして閉じます。", "Click OK to close."),
        ),
    ),
    warnings=(
        T(
            "「証明書を検証しない」には絶対にチェックを入れないでください。証明書の警告は"
            "サーバー名の誤りのサインです。",
            "Never tick “Do not verify certificates”; a certificate warning means the server "
            "name is wrong.",
        ),
        T(
            "送信はポート 465 で「SMTPS」にチェックを入れて設定します。",
            "Set sending to port 465 with SMTPS ticked.",
        ),
    ),
    troubleshooting=(
        TS_CERT_NAME,
        T(
            "送信だけできない場合は「詳細」タブの SMTP ポート（465）と「SMTP認証」「ESMTPを使用」"
            "のチェック、「基本設定」タブの「SMTPS」のチェックを確認してください。",
            "If only sending fails, check on the Advanced tab the SMTP port (465) and the SMTP "
            "authentication and ESMTP boxes, and on the Basic tab the SMTPS box.",
        ),
        TS_RECEIVE_ONLY,
        TS_PASSWORD,
    ),
    sources=(
        "https://www.xserver.ne.jp/manual/man_mail_setting_becky.php",  # hosting company's manual (screenshots)
        "https://www.rimarts.co.jp/becky-j.htm",  # unverified: not retrievable here
    ),
)

# --- 8. Apple Mail (macOS) ------------------------------------------------------------------
# Apple writes サーバ and ユーザ名. Path and "接続設定を自動的に管理" from Apple's HT204208;
# English option names from Apple's Mail User Guide (Change Server Settings).

APPLE_BOX = T("TLS/SSLを使用", "Use TLS/SSL")  # unverified: ja wording of the checkbox

APPLE_MAIL = MailClient(
    id="apple_mail",
    name=T("Mac の「メール」（Apple Mail）", "Mail on Mac (Apple Mail)"),
    platforms=T("macOS", "macOS"),
    protocols=("pop3", "imap"),
    protocol_names={"pop3": T("POP", "POP"), "imap": T("IMAP", "IMAP")},
    incoming=Security(style="ssl-box", box=APPLE_BOX, box_starttls=True),
    outgoing=Security(style="ssl-box", box=APPLE_BOX, box_starttls=True),
    server_word="サーバ",
    auth=Auth(label=T("認証", "Authentication"), value=T("パスワード", "Password")),
    screens=(
        Screen(
            title=T("アカウントを追加", "Add an account"),
            how=T(
                "「メール」→「アカウントを追加」→「その他のメールアカウント...」→「続ける」",
                "Mail → Add Account → Other Mail Account… → Continue",
            ),
            fields=(
                Field(T("名前", "Name"), "display_name"),
                Field(T("メールアドレス", "Email Address"), "email"),
                Field(T("パスワード", "Password"), "password"),
            ),
            note=T(
                "「サインイン」をクリックし、「アカウント名またはパスワードを確認できません」"
                "と表示されたら次の画面の項目を入力します。",
                "Click “Sign In”; when Mail says it cannot verify the account name or "
                "password, fill in the next screen.",
            ),  # unverified: wording of that message
        ),
        Screen(
            title=T("サーバ情報の入力", "Server information"),
            how=T("「サインイン」の後に表示されます", "Shown after “Sign In”"),
            fields=(
                Field(T("ユーザ名", "User Name"), "username"),
                Field(T("アカウントの種類", "Account Type"), "protocol"),
                Field(T("受信用メールサーバ", "Incoming Mail Server"), "incoming_host"),
                Field(T("送信用メールサーバ", "Outgoing Mail Server"), "outgoing_host"),
            ),
            note=T("「サインイン」をクリックします。", "Click “Sign In”."),
        ),
        Screen(
            title=T("サーバ設定", "Server Settings"),
            how=T(
                "「メール」→「設定」（macOS 12 以前は「環境設定」）→「アカウント」→ アカウントを"
                "選択 →「サーバ設定」",
                "Mail → Settings (macOS 12 and earlier: Preferences) → Accounts → select the "
                "account → Server Settings",
            ),
            fields=(
                Field(T("受信用メールサーバ: ユーザ名", "Incoming: User Name"), "username"),
                Field(T("受信用メールサーバ: パスワード", "Incoming: Password"), "password"),
                Field(T("受信用メールサーバ: ホスト名", "Incoming: Host Name"), "incoming_host"),
                Field(
                    T(
                        "受信用メールサーバ: 接続設定を自動的に管理",
                        "Incoming: Automatically manage connection settings",
                    ),
                    "fixed",
                    fixed=OFF,
                ),
                Field(T("受信用メールサーバ: ポート", "Incoming: Port"), "incoming_port"),
                Field(
                    T("受信用メールサーバ: " + APPLE_BOX.ja, "Incoming: " + APPLE_BOX.en),
                    "incoming_security",
                ),
                Field(
                    T("受信用メールサーバ: 認証", "Incoming: Authentication"),
                    "fixed",
                    fixed=T("パスワード", "Password"),
                ),
                Field(
                    T("送信用メールサーバ (SMTP): ユーザ名", "Outgoing (SMTP): User Name"),
                    "outgoing_username",
                ),
                Field(
                    T("送信用メールサーバ (SMTP): パスワード", "Outgoing (SMTP): Password"),
                    "password",
                ),
                Field(
                    T("送信用メールサーバ (SMTP): ホスト名", "Outgoing (SMTP): Host Name"),
                    "outgoing_host",
                ),
                Field(
                    T(
                        "送信用メールサーバ (SMTP): 接続設定を自動的に管理",
                        "Outgoing (SMTP): Automatically manage connection settings",
                    ),
                    "fixed",
                    fixed=OFF,
                ),
                Field(
                    T("送信用メールサーバ (SMTP): ポート", "Outgoing (SMTP): Port"), "outgoing_port"
                ),
                Field(
                    T(
                        "送信用メールサーバ (SMTP): " + APPLE_BOX.ja,
                        "Outgoing (SMTP): " + APPLE_BOX.en,
                    ),
                    "outgoing_security",
                ),
                Field(
                    T("送信用メールサーバ (SMTP): 認証", "Outgoing (SMTP): Authentication"),
                    "smtp_auth",
                ),
            ),
            note=T(
                "「接続設定を自動的に管理」を外すとポートと認証の欄が表示されます。入力したら"
                "「保存」をクリックします。すでに設定済みのアカウントを変更する場合もこの画面です。",
                "Clearing “Automatically manage connection settings” shows the Port and "
                "Authentication fields. Click “Save”. This is also the screen for changing an "
                "existing account.",
            ),
        ),
    ),
    warnings=(
        T(
            "「接続設定を自動的に管理」がオンだと、メールは接続できないときに別のポートや"
            "TLS/SSL なしの接続を自動で試します。必ずオフにして案内どおりに入力してください。",
            "With “Automatically manage connection settings” on, Mail tries other ports and "
            "connections without TLS/SSL on its own when it cannot connect. Turn it off and "
            "enter the settings in this guide.",
        ),
        T(
            "証明書を確認できないという画面が出ても「続ける」や「常に信頼」を選ばず、"
            "サーバ名を確認してください。",
            "If Mail says it cannot verify the certificate, do not choose Continue or Always "
            "Trust; check the server name.",
        ),  # unverified: exact dialog buttons (Apple publishes no UI strings; no Apple page here)
    ),
    troubleshooting=(
        TS_CERT_NAME_APPLE,
        T(
            "送信だけできない場合は「サーバ設定」の送信用メールサーバ (SMTP) のホスト名、ポート、"
            "「TLS/SSLを使用」、認証「パスワード」を確認してください。アカウントに別の送信用"
            "サーバが選ばれていることもあります。",
            "If only sending fails, check the outgoing (SMTP) host name, port, “Use TLS/SSL” "
            "and Authentication “Password” in Server Settings; the account may also have "
            "another outgoing server selected.",
        ),
        TS_PASSWORD,
    ),
    sources=(
        "https://support.apple.com/ja-jp/HT204208",
        "https://support.apple.com/guide/mail/cpmlprefacctadv/mac",
        "https://support.apple.com/guide/mail/cpmlprefsmtpserver/mac",
        "https://www.xserver.ne.jp/manual/man_mail_setting_mac_osx.php",  # hosting company's manual (screenshots)
    ),
)

# --- 9. iPhone / iPad Mail ------------------------------------------------------------------
# iOS 18 moved Mail settings under 設定 → アプリ → メール. Account screens confirmed from
# Xserver's iPhone manual (screenshots, earlier path). Apple writes サーバ / ユーザ名.

IOS_BOX = T("SSLを使用", "Use SSL")

IPHONE = MailClient(
    device="phone",
    id="iphone",
    name=T("iPhone / iPad の「メール」", "Mail on iPhone / iPad"),
    platforms=T(
        "iOS / iPadOS 18 以降（17 以前は「設定」→「メール」）",
        "iOS / iPadOS 18 or later (17 and earlier: Settings → Mail)",
    ),
    protocols=("pop3", "imap"),
    protocol_names={"pop3": T("POP", "POP"), "imap": T("IMAP", "IMAP")},
    incoming=Security(style="ssl-box", box=IOS_BOX, box_starttls=True),
    outgoing=Security(style="ssl-box", box=IOS_BOX, box_starttls=True),
    server_word="サーバ",
    auth=Auth(label=T("認証", "Authentication"), value=T("パスワード", "Password")),
    screens=(
        Screen(
            title=T("メールアカウントを追加", "Add Mail Account"),
            how=T(
                "「設定」→「アプリ」→「メール」→「メールアカウント」→「アカウントを追加」→"
                "「その他」→「メールアカウントを追加」",
                "Settings → Apps → Mail → Mail Accounts → Add Account → Other → Add Mail Account",
            ),
            fields=(
                Field(T("名前", "Name"), "display_name"),
                Field(T("メール", "Email"), "email"),
                Field(T("パスワード", "Password"), "password"),
                Field(T("説明", "Description"), "fixed", fixed=ANY_NAME),
            ),
            note=T("入力したら「次へ」をタップします。", "Then tap “Next”."),
        ),
        Screen(
            title=T("新規アカウント", "New Account"),
            how=T("「次へ」の後に表示されます", "Shown after “Next”"),
            fields=(
                Field(
                    T("IMAP / POP（画面上部で選ぶ）", "IMAP / POP (choose at the top)"), "protocol"
                ),
                Field(
                    T("受信メールサーバ: ホスト名", "Incoming Mail Server: Host Name"),
                    "incoming_host",
                ),
                Field(
                    T("受信メールサーバ: ユーザ名", "Incoming Mail Server: User Name"), "username"
                ),
                Field(
                    T("受信メールサーバ: パスワード", "Incoming Mail Server: Password"), "password"
                ),
                Field(
                    T("送信メールサーバ: ホスト名", "Outgoing Mail Server: Host Name"),
                    "outgoing_host",
                ),
                Field(
                    T("送信メールサーバ: ユーザ名", "Outgoing Mail Server: User Name"),
                    "outgoing_username",
                ),
                Field(
                    T("送信メールサーバ: パスワード", "Outgoing Mail Server: Password"), "password"
                ),
            ),
            note=T(
                "「次へ」（POP の場合は「保存」）をタップします。続けて次の 2 つの画面でポートと"
                "「SSLを使用」を確認します。",
                "Tap “Next” (for POP: “Save”). Then check the port and “Use SSL” on the next "
                "two screens.",
            ),
        ),
        Screen(
            title=T("詳細（受信）", "Advanced (incoming)"),
            how=T(
                "「設定」→「アプリ」→「メール」→「メールアカウント」→ 追加したアカウント →"
                "（IMAP の場合は「アカウント」）→「詳細」",
                "Settings → Apps → Mail → Mail Accounts → the account → (for IMAP: Account) → "
                "Advanced",
            ),
            fields=(
                Field(
                    T("受信設定: " + IOS_BOX.ja, "Incoming Settings: " + IOS_BOX.en),
                    "incoming_security",
                ),
                Field(
                    T("受信設定: 認証", "Incoming Settings: Authentication"),
                    "fixed",
                    fixed=T("パスワード", "Password"),
                ),
                Field(
                    T("受信設定: サーバポート", "Incoming Settings: Server Port"), "incoming_port"
                ),
            ),
        ),
        Screen(
            title=T("送信メールサーバ（SMTP）", "Outgoing Mail Server (SMTP)"),
            how=T(
                "アカウントの画面（IMAP の場合は「アカウント」）→「送信メールサーバ」の「SMTP」→"
                "「プライマリサーバ」のサーバ名",
                "The account screen (for IMAP: Account) → Outgoing Mail Server: SMTP → the "
                "Primary Server",
            ),
            fields=(
                Field(T("ホスト名", "Host Name"), "outgoing_host"),
                Field(T("ユーザ名", "User Name"), "outgoing_username"),
                Field(T("パスワード", "Password"), "password"),
                Field(IOS_BOX, "outgoing_security"),
                Field(T("認証", "Authentication"), "smtp_auth"),
                Field(T("サーバポート", "Server Port"), "outgoing_port"),
            ),
            note=T("「完了」をタップします。", "Tap “Done”."),
        ),
    ),
    warnings=(
        T(
            "iOS 18 から、メールの設定は「設定」→「アプリ」→「メール」に移りました。"
            "iOS 17 以前は「設定」→「メール」→「アカウント」です。",
            "Since iOS 18, Mail settings are under Settings → Apps → Mail; in iOS 17 and "
            "earlier under Settings → Mail → Accounts.",
        ),
        T(
            f"「{APPLE_CANNOT_VERIFY.ja}」と表示されても「信頼」をタップしないでください。"
            "「キャンセル」してサーバ名を確認してください。",
            f"If “{APPLE_CANNOT_VERIFY.en}” appears, do not tap “Trust”; tap Cancel and "
            "check the server name.",
        ),  # unverified: the buttons; the title is quoted by hosting manuals (no Apple page here)
        box_follows_port(IOS_BOX),
        T(
            "最初の接続に失敗すると「SSLで接続できません」「SSLなしでアカウントを設定しますか?」と"
            "聞かれることがあります。必ず「いいえ」をタップしてください（「はい」にするとパスワード"
            "が暗号化されずに送られます）。代わりに、サーバ名・ユーザ名・パスワードがこの案内"
            "どおりか、ポート番号と「SSLを使用」の組み合わせが合っているかを確認し、Wi-Fi と"
            "モバイル通信を切り替えてもう一度お試しください。",
            "If the first connection fails, iOS may ask “Cannot Connect Using SSL — Do you want "
            "to try setting up the account without SSL?”. Always tap “No” (with “Yes” your "
            "password would travel unencrypted). Instead, check that the server names, user "
            "name and password are exactly as in this guide and that the port matches “Use "
            "SSL”, then try again on another network (Wi-Fi or mobile data).",
        ),  # unverified: dialog wording from hosting companies' manuals, no Apple page here
    ),
    troubleshooting=(
        TS_CERT_NAME_APPLE,
        T(
            "受信はできるのに送信できない場合は「送信メールサーバ」→「SMTP」→「プライマリサーバ」"
            "でホスト名・サーバポート・「SSLを使用」・ユーザ名とパスワードを確認してください。",
            "If receiving works but sending fails, check Outgoing Mail Server → SMTP → Primary "
            "Server: host name, server port, Use SSL, user name and password.",
        ),
        TS_PASSWORD,
    ),
    sources=(
        "https://support.apple.com/ja-jp/102619",  # unverified: not retrievable here
        "https://www.xserver.ne.jp/manual/man_mail_setting_iphone.php",  # hosting company's manual (screenshots)
    ),
)

# --- 10. Gmail app on Android ---------------------------------------------------------------
# The Gmail app sets up other providers' POP / IMAP accounts with the screens of Android's
# Email app: every label below is the string of AOSP packages/apps/Email
# (res/values/strings.xml, res/values-ja/strings.xml), e.g. 「受信サーバーの設定」,
# 「セキュリティの種類」, 「SSL/TLS（証明書をすべて承認）」, 「ログインが必要」, 「個人用（POP3）」.
# The route in (profile picture → Add another account → Other) is Google's help 6078445.

GMAIL_APP_SECURITY = Security(
    style="choice",
    choices={"none": NONE_JA_EN, "ssl": SSL_TLS, "starttls": STARTTLS},
)
GMAIL_ACCEPT_ALL = T("（証明書をすべて承認）", "(Accept all certificates)")

GMAIL_ANDROID = MailClient(
    device="phone",
    id="gmail_android",
    name=T("Gmail アプリ（Android）", "Gmail app (Android)"),
    platforms=T("Android", "Android"),
    protocols=("pop3", "imap"),
    protocol_names={
        "pop3": T("個人用（POP3）", "Personal (POP3)"),
        "imap": T("個人用（IMAP）", "Personal (IMAP)"),
    },
    incoming=GMAIL_APP_SECURITY,
    outgoing=GMAIL_APP_SECURITY,
    auth=Auth(
        label=T("ログインが必要", "Require signin"),
        value=T(
            "オン（受信と同じユーザー名とパスワード）",
            "On (same user name and password as incoming)",
        ),
    ),
    screens=(
        Screen(
            title=T("メールアドレスの入力", "Enter your email"),
            how=T(
                "Gmail アプリ右上のプロフィール写真 →「別のアカウントを追加」→「その他」",
                "Gmail app → your profile picture (top right) → Add another account → Other",
            ),
            fields=(Field(T("メールアドレス", "Email address"), "email"),),
            note=T(
                "入力したら「次へ」ではなく「手動セットアップ」をタップします。",
                "Then tap “Manual setup” (not “Next”).",
            ),
        ),
        Screen(
            title=T("アカウントの種類", "Account type"),
            how=T("「手動セットアップ」の後に表示されます", "Shown after “Manual setup”"),
            fields=(
                Field(
                    T("このアカウントの種類を選択します", "What type of account is this?"),
                    "protocol",
                ),
                Field(T("パスワード", "Password"), "password"),
            ),
            note=T(
                "パスワードを入力したら「次へ」をタップします。",
                "Enter the password, then tap “Next”.",
            ),
        ),
        Screen(
            title=T("受信サーバーの設定", "Incoming server settings"),
            how=T("パスワードの後に表示されます", "Shown after the password"),
            fields=(
                Field(T("ユーザー名", "Username"), "username"),
                Field(T("パスワード", "Password"), "password"),
                Field(T("サーバー", "Server"), "incoming_host"),
                Field(T("ポート", "Port"), "incoming_port"),
                Field(
                    T("セキュリティの種類", "Security type"),
                    "incoming_security",
                    note=T(
                        "「（証明書をすべて承認）」が付いた項目は選ばないでください。",
                        "Do not choose an entry ending in “(Accept all certificates)”.",
                    ),
                ),
            ),
            note=T("「次へ」をタップします。", "Tap “Next”."),
        ),
        Screen(
            title=T("送信サーバーの設定", "Outgoing server settings"),
            how=T(
                "受信サーバーの確認が済むと表示されます",
                "Shown after the incoming server is checked",
            ),
            fields=(
                Field(T("SMTPサーバー", "SMTP server"), "outgoing_host"),
                Field(T("ポート", "Port"), "outgoing_port"),
                Field(T("セキュリティの種類", "Security type"), "outgoing_security"),
                Field(T("ログインが必要", "Require signin"), "smtp_auth"),
                Field(T("ユーザー名", "Username"), "outgoing_username"),
                Field(T("パスワード", "Password"), "password"),
            ),
            note=T("「次へ」をタップします。", "Tap “Next”."),
        ),
        Screen(
            title=T("アカウントの設定が完了しました。", "Your account is set up"),
            how=T(
                "送信サーバーの確認と「アカウントのオプション」の後に表示されます",
                "Shown after the outgoing server is checked and the Account options",
            ),
            fields=(
                Field(
                    T(
                        "あなたの名前（送信メールに表示されます）",
                        "Your name (displayed on outgoing messages)",
                    ),
                    "display_name",
                ),
            ),
            note=T("「次へ」をタップして完了です。", "Tap “Next” to finish."),
        ),
    ),
    warnings=(
        T(
            "「セキュリティの種類」で「SSL/TLS（証明書をすべて承認）」「STARTTLS（証明書をすべて"
            "承認）」は絶対に選ばないでください。偽のサーバーに接続してもパスワードが送られて"
            "しまいます。",
            "Never choose “SSL/TLS (Accept all certificates)” or “STARTTLS (accept all "
            "certificates)” as Security type: your password would be sent even to a fake "
            "server.",
        ),
        T(
            "Samsung など機種独自のメールアプリは画面が異なります。この案内は Gmail アプリ用です。",
            "Phone makers' own mail apps (e.g. Samsung) have different screens; this guide is "
            "for the Gmail app.",
        ),
    ),
    troubleshooting=(
        T(
            "証明書のエラーで先へ進めない場合は、サーバー名がこの案内の名前と一字一句同じか"
            "確認してください。「（証明書をすべて承認）」の付いた項目に切り替えて回避しないで"
            "ください。",
            "If a certificate error stops the setup, check that the server name is exactly the "
            "one in this guide. Do not switch to an “(Accept all certificates)” entry to get "
            "past it.",
        ),
        TS_SEND_ONLY,
        TS_PASSWORD,
    ),
    sources=(
        "https://support.google.com/mail/answer/6078445",
        "https://android.googlesource.com/platform/packages/apps/Email/+/refs/heads/main/res/values-ja/strings.xml",
        "https://android.googlesource.com/platform/packages/apps/Email/+/refs/heads/main/res/values/strings.xml",
    ),
)

# --- 11. Gmail on the web: "Check mail from other accounts" (POP) -----------------------------
# Google announced the end of Gmailify and of POP fetching ("Check mail from other accounts")
# from January 2026 (support.google.com/mail/answer/16604719). "Send mail as" via SMTP stays;
# Google's answer 1074635 explains that "TLS" there means STARTTLS and "SSL" implicit TLS.
# Japanese menu labels confirmed from several customer guides quoting the real screens.

GMAIL_WEB_POP = MailClient(
    id="gmail_web_pop",
    name=T(
        "Gmail（ウェブ版）他のアカウントのメールを確認（POP）",
        "Gmail on the web: Check mail from other accounts (POP)",
    ),
    platforms=T("パソコンのウェブブラウザ", "Web browser on a computer"),
    protocols=("pop3",),
    protocol_names={"pop3": T("POP3", "POP3")},
    # The retired POP fetcher had a single "always use a secure connection (SSL)" box.
    incoming=Security(
        style="ssl-box",
        box=T(
            "メールの取得にセキュリティで保護された接続（SSL）を使用する",
            "Always use a secure connection (SSL) when retrieving mail",
        ),  # unverified: ja wording (the screen is gone)
    ),
    outgoing=Security(
        style="choice",
        choices={
            "starttls": T(
                "TLS を使用したセキュリティで保護された接続（推奨）",
                "Secured connection using TLS (recommended)",
            ),
            "ssl": T(
                "SSL を使用したセキュリティで保護された接続",
                "Secured connection using SSL",
            ),  # unverified: exact wording of the SSL radio button
        },
    ),
    auth=Auth(
        label=T("ユーザー名 / パスワード", "Username / Password"),
        value=T(
            "受信と同じユーザー名とパスワード（SMTP 認証は常に使われます）",
            "The same user name and password as for incoming mail (SMTP authentication is "
            "always used)",
        ),
    ),
    legacy=True,
    screens=(
        Screen(
            title=T(
                "他のアカウントのメールを確認（POP）は終了しました",
                "Check mail from other accounts (POP) has ended",
            ),
            how=T(
                "「設定」（歯車）→「すべての設定を表示」→「アカウントとインポート」→"
                "「他のアカウントのメールを確認」",
                "Settings (gear) → See all settings → Accounts and Import → Check mail from "
                "other accounts",
            ),
            fields=(
                Field(
                    T("他のアカウントのメールを確認", "Check mail from other accounts"),
                    "fixed",
                    fixed=T(
                        "使えません（2026 年初めから新規設定不可、年内に機能廃止）",
                        "Not available (no new setups since early 2026; removed later in 2026)",
                    ),
                ),
            ),
            note=T(
                "Gmail はウェブ版で他のメールアカウントを POP で取り込む機能を 2026 年に終了し"
                "ました。これまでに取り込んだメールは残ります。引き続き Gmail でこのメール"
                "アドレスを読むには、(1) スマートフォンの Gmail アプリに IMAP でアカウントを追加"
                "する（「Gmail アプリ（Android）」の案内）、(2) 当社サーバーで Gmail への転送を"
                "設定する、のどちらかをお選びください。送信は下の「名前:」の設定で引き続き"
                "できます。",
                "Gmail on the web stopped fetching other accounts by POP during 2026; mail "
                "already fetched stays. To keep reading this address in Gmail, either (1) add "
                "the account by IMAP in the Gmail mobile app (see the Gmail app guide), or (2) "
                "set up forwarding to Gmail on our server. Sending keeps working through “Send "
                "mail as” below.",
            ),
        ),
        Screen(
            title=T("名前: 他のメール アドレスを追加", "Send mail as: Add another email address"),
            how=T(
                "「設定」（歯車）→「すべての設定を表示」→「アカウントとインポート」→「名前:」の"
                "「他のメール アドレスを追加」",
                "Settings (gear) → See all settings → Accounts and Import → Send mail as: Add "
                "another email address",
            ),
            fields=(
                Field(T("名前", "Name"), "display_name"),
                Field(T("メール アドレス", "Email address"), "email"),
                Field(T("エイリアスとして扱います。", "Treat as an alias."), "fixed", fixed=ON),
            ),
            note=T("「次のステップ」をクリックします。", "Click “Next Step”."),
        ),
        Screen(
            title=T("SMTP サーバー経由でメールを送信", "Send mail through your SMTP server"),
            how=T("「次のステップ」の後に表示されます", "Shown after “Next Step”"),
            fields=(
                Field(T("SMTP サーバー", "SMTP Server"), "outgoing_host"),
                Field(T("ポート", "Port"), "outgoing_port"),
                Field(T("ユーザー名", "Username"), "outgoing_username"),
                Field(T("パスワード", "Password"), "password"),
                Field(
                    T("接続の種類（ラジオボタン）", "Connection (radio buttons)"),
                    "outgoing_security",
                ),
            ),
            note=T(
                "「アカウントを追加」をクリックすると、このメールアドレス宛てに確認コードが届きます。"
                "そのコードを入力するか、メール内のリンクをクリックすると完了です。",
                "Click “Add Account”; a confirmation code is sent to this address. Enter the "
                "code or click the link in that message to finish.",
            ),
        ),
    ),
    warnings=(
        T(
            "Gmail（ウェブ版）の「他のアカウントのメールを確認」（POP での取り込み）は 2026 年に"
            "終了しました。2026 年初めから新しく設定できず、年内に機能が廃止されています。",
            "Gmail on the web's “Check mail from other accounts” (POP fetching) ended in 2026: "
            "no new setups since early 2026, and the feature was removed later in the year.",
        ),
        T(
            "「名前:」（別のアドレスから送信）の SMTP 設定では「TLS」が STARTTLS（通常ポート "
            "587）、「SSL」が最初から暗号化する方式（通常ポート 465）です。ポートと組み合わせを"
            "合わせてください。",
            "In “Send mail as”, “TLS” means STARTTLS (usually port 587) and “SSL” means implicit "
            "TLS (usually port 465); keep the port and the choice together.",
        ),
    ),
    troubleshooting=(
        T(
            "「アカウントを追加」でエラーになる場合は、SMTP サーバー名がこの案内どおりか、"
            "ポート 587 なら「TLS」、465 なら「SSL」を選んでいるか確認してください。",
            "If “Add Account” fails, check that the SMTP server name is as in this guide and "
            "that port 587 goes with “TLS” and 465 with “SSL”.",
        ),
        T(
            "確認コードのメールは、このメールアドレスの受信箱（Gmail 以外）に届きます。"
            "Gmail アプリ（IMAP）やウェブメールで確認してください。",
            "The confirmation message arrives in this address's own mailbox (not in Gmail); "
            "read it with the Gmail app (IMAP) or our webmail.",
        ),
        TS_PASSWORD,
    ),
    sources=(
        "https://support.google.com/mail/answer/16604719",
        "https://support.google.com/mail/answer/1074635?hl=ja",
        "https://support.google.com/mail/answer/22370",  # unverified: not retrievable here
    ),
)

# --- 12. Outlook for Mac -------------------------------------------------------------------
# English labels from Microsoft's "Basic POP account settings for Outlook for Mac" (Incoming
# server, Override default port, Use SSL to connect (recommended), Outgoing server, More
# Options). unverified: the Japanese labels — Microsoft's ja page could not be retrieved here;
# they follow Microsoft's usual Japanese terms (受信サーバー, 既定のポートを上書きする) and must
# be checked against the ja-jp page before the marks go.

MAC_OUTLOOK_BOX = T("SSL を使用して接続する (推奨)", "Use SSL to connect (recommended)")
MAC_OUTLOOK_OVERRIDE = T("既定のポートを上書きする", "Override default port")

OUTLOOK_MAC = MailClient(
    id="outlook_mac",
    name=T("Outlook for Mac", "Outlook for Mac"),
    platforms=T("macOS", "macOS"),
    protocols=("pop3", "imap"),
    protocol_names={"pop3": T("POP", "POP"), "imap": T("IMAP", "IMAP")},
    incoming=Security(style="ssl-box", box=MAC_OUTLOOK_BOX),
    # unverified: like the other one-box programs, the box on 587 is widely reported to mean
    # STARTTLS; no Microsoft page says so in as many words.
    outgoing=Security(style="ssl-box", box=MAC_OUTLOOK_BOX, box_starttls=True),
    auth=Auth(
        label=T("その他のオプション: 認証", "More Options: Authentication"),
        value=T("ユーザー名とパスワード", "User Name and Password"),
    ),  # unverified: the entries of the Authentication list (the help names only the button)
    screens=(
        Screen(
            title=T("アカウントの追加", "Add an account"),
            how=T(
                "メニューバーの「Outlook」→「設定」→「アカウント」→ 左下の「+」→"
                "「新しいアカウント...」",
                "Outlook menu → Settings → Accounts → + (bottom left) → New Account…",
            ),  # unverified: menu wording (Microsoft's help names Accounts and the + button)
            fields=(Field(T("メール アドレス", "Email address"), "email"),),
            note=T(
                "「続行」をクリックし、プロバイダーの選択では「IMAP/POP」を選びます。",
                "Click “Continue”; when asked for the provider, choose “IMAP/POP”.",
            ),
        ),
        Screen(
            title=T("IMAP/POP アカウントの設定", "IMAP/POP account"),
            how=T("「IMAP/POP」を選ぶと表示されます", "Shown after you choose “IMAP/POP”"),
            fields=(
                Field(T("種類", "Type"), "protocol"),
                Field(T("メール アドレス", "Email address"), "email"),
                Field(T("ユーザー名", "User name"), "username"),
                Field(T("パスワード", "Password"), "password"),
                Field(T("受信サーバー", "Incoming server"), "incoming_host"),
                Field(
                    T(
                        "受信サーバー: " + MAC_OUTLOOK_OVERRIDE.ja,
                        "Incoming: " + MAC_OUTLOOK_OVERRIDE.en,
                    ),
                    "fixed",
                    fixed=ON,
                ),
                Field(T("受信サーバー: ポート", "Incoming: port"), "incoming_port"),
                Field(
                    T("受信サーバー: " + MAC_OUTLOOK_BOX.ja, "Incoming: " + MAC_OUTLOOK_BOX.en),
                    "incoming_security",
                ),
                Field(T("送信サーバー", "Outgoing server"), "outgoing_host"),
                Field(
                    T(
                        "送信サーバー: " + MAC_OUTLOOK_OVERRIDE.ja,
                        "Outgoing: " + MAC_OUTLOOK_OVERRIDE.en,
                    ),
                    "fixed",
                    fixed=ON,
                ),
                Field(T("送信サーバー: ポート", "Outgoing: port"), "outgoing_port"),
                Field(
                    T("送信サーバー: " + MAC_OUTLOOK_BOX.ja, "Outgoing: " + MAC_OUTLOOK_BOX.en),
                    "outgoing_security",
                ),
            ),
            note=T("「アカウントの追加」をクリックします。", "Click “Add Account”."),
        ),
        Screen(
            title=T("確認・変更: アカウント", "Check or change: Accounts"),
            how=T(
                "「Outlook」→「設定」→「アカウント」→ 左の一覧でアカウントを選択",
                "Outlook → Settings → Accounts → select the account in the left list",
            ),
            fields=(
                Field(T("受信サーバー", "Incoming server"), "incoming_host"),
                Field(T("受信サーバー: ポート", "Incoming: port"), "incoming_port"),
                Field(
                    T("受信サーバー: " + MAC_OUTLOOK_BOX.ja, "Incoming: " + MAC_OUTLOOK_BOX.en),
                    "incoming_security",
                ),
                Field(T("送信サーバー", "Outgoing server"), "outgoing_host"),
                Field(T("送信サーバー: ポート", "Outgoing: port"), "outgoing_port"),
                Field(
                    T("送信サーバー: " + MAC_OUTLOOK_BOX.ja, "Outgoing: " + MAC_OUTLOOK_BOX.en),
                    "outgoing_security",
                ),
                Field(T("その他のオプション: 認証", "More Options: Authentication"), "smtp_auth"),
            ),
            note=T(
                "すでに設定済みのアカウントを変更する場合はこの画面から始めます。",
                "Start here when changing an account that is already set up.",
            ),
        ),
    ),
    warnings=(
        box_follows_port(MAC_OUTLOOK_BOX),
        T(
            "証明書の警告が表示されても「続行」や「常に信頼」を選ばず、サーバー名を確認して"
            "ください。",
            "If a certificate warning appears, do not choose Continue or Always Trust; check "
            "the server name.",
        ),
    ),
    troubleshooting=(TS_CERT_NAME, TS_SEND_ONLY, TS_RECEIVE_ONLY, TS_PASSWORD),
    sources=(
        "https://support.microsoft.com/en-us/office/basic-pop-account-settings-for-outlook-for-mac-d25a0c43-2c81-41a0-9913-573e52af3d6f",
        "https://support.microsoft.com/ja-jp/office/d25a0c43-2c81-41a0-9913-573e52af3d6f",  # unverified: not retrievable here
    ),
)

# --- 13. Outlook for iOS / Android ----------------------------------------------------------
# Outlook mobile adds IMAP accounts (no POP3) and syncs them through Microsoft's cloud.
# unverified: the labels of the IMAP form (「詳細設定」, 「IMAP ホスト名」 …) — Microsoft's help
# page for the mobile app could not be retrieved here and no hosting manual with screenshots
# was found; they are the names the app's English UI is widely quoted with.

OUTLOOK_MOBILE_SECURITY = Security(
    style="choice",
    choices={"ssl": SSL_TLS, "starttls": STARTTLS},
)

OUTLOOK_MOBILE = MailClient(
    device="phone",
    id="outlook_mobile",
    name=T("Outlook for iOS / Android", "Outlook for iOS / Android"),
    platforms=T("iPhone / iPad / Android", "iPhone / iPad / Android"),
    protocols=("imap",),
    protocol_names={"imap": T("IMAP", "IMAP")},
    unsupported={
        "pop3": T(
            "Outlook for iOS / Android は POP3 に対応していません。このメールアドレスは POP3 で"
            "お使いですが、Outlook アプリでは IMAP で設定します（下の手順）。IMAP ではメールが"
            "サーバーに残り、パソコンの POP3 とスマートフォンの両方で読めます。パソコンが受信後"
            "にサーバーからメールを削除する設定の場合、スマートフォンには受信前のメールしか"
            "表示されません。POP3 のまま使いたい場合は、iPhone の「メール」や Android の Gmail "
            "アプリなど、端末のメールアプリの案内をご覧ください。",
            "Outlook for iOS / Android cannot use POP3. You use this address with POP3, but in "
            "the Outlook app it is set up with IMAP (steps below). With IMAP the mail stays on "
            "the server, so you can read it both on your computer (POP3) and on the phone; if "
            "your computer deletes mail from the server after downloading it, the phone only "
            "shows mail not yet downloaded. To keep POP3, use the phone's own mail app instead "
            "(see the guides for Mail on iPhone or the Gmail app on Android).",
        )
    },
    incoming=OUTLOOK_MOBILE_SECURITY,
    outgoing=OUTLOOK_MOBILE_SECURITY,
    auth=Auth(
        label=T("SMTP ユーザー名 / SMTP パスワード", "SMTP Username / SMTP Password"),
        value=T(
            "受信と同じユーザー名とパスワード",
            "The same user name and password as for incoming mail",
        ),
    ),
    screens=(
        Screen(
            title=T("アカウントの追加", "Add Account"),
            how=T(
                "Outlook アプリ左上のアカウントのアイコン →「設定」（歯車）→「メール アカウントの"
                "追加」→「メール アカウントの追加」",
                "Outlook app → account icon (top left) → Settings (gear) → Add Mail Account → "
                "Add Email Account",
            ),
            fields=(Field(T("メール アドレス", "Email address"), "email"),),
            note=T(
                "「続行」をタップし、アカウントの種類を聞かれたら「IMAP」を選びます。",
                "Tap “Continue”; when asked for the account type, choose “IMAP”.",
            ),
        ),
        Screen(
            title=T("IMAP アカウントの接続", "Connect IMAP Account"),
            how=T(
                "「IMAP」を選ぶと表示されます。「詳細設定を使用」をオンにします",
                "Shown after you choose IMAP; turn on “Use Advanced Settings”",
            ),
            fields=(
                Field(T("表示名", "Display Name"), "display_name"),
                Field(T("説明", "Description"), "fixed", fixed=ANY_NAME),
                Field(T("IMAP ホスト名", "IMAP Hostname"), "incoming_host"),
                Field(T("IMAP ポート", "IMAP Port"), "incoming_port"),
                Field(T("IMAP セキュリティの種類", "IMAP Security Type"), "incoming_security"),
                Field(T("IMAP ユーザー名", "IMAP Username"), "username"),
                Field(T("IMAP パスワード", "IMAP Password"), "password"),
                Field(T("SMTP ホスト名", "SMTP Hostname"), "outgoing_host"),
                Field(T("SMTP ポート", "SMTP Port"), "outgoing_port"),
                Field(T("SMTP セキュリティの種類", "SMTP Security Type"), "outgoing_security"),
                Field(T("SMTP ユーザー名", "SMTP Username"), "outgoing_username"),
                Field(T("SMTP パスワード", "SMTP Password"), "password"),
            ),
            note=T(
                "右上のチェック（✓）をタップします。ポートやセキュリティの欄が表示されない版では、"
                "Outlook が自動で選びます。",
                "Tap the check mark (✓) at the top right. Versions without the port and security "
                "fields choose them by themselves.",
            ),
        ),
    ),
    warnings=(
        T(
            "Outlook for iOS / Android は POP3 を使えません。IMAP で設定します。",
            "Outlook for iOS / Android cannot use POP3; it is set up with IMAP.",
        ),
        T(
            "Outlook アプリでは、IMAP アカウントは Microsoft のクラウドを経由して同期されます。"
            "当社サーバーへの接続は端末からではなく Microsoft のサーバーから行われます。",
            "The Outlook app syncs IMAP accounts through the Microsoft cloud: the connection "
            "to our servers comes from Microsoft's servers, not from your phone.",
        ),
    ),
    troubleshooting=(TS_CERT_NAME, TS_SEND_ONLY, TS_PASSWORD),
    sources=(
        "https://support.microsoft.com/ja-jp/office/outlook-for-ios-and-android-faq",  # unverified: not retrievable here
    ),
)

# --- 14. Thunderbird for Android (formerly K-9 Mail) ----------------------------------------
# Every label from the app's own string files (github.com/thunderbird/thunderbird-android:
# feature/account/server/settings, feature/account/setup, feature/account/server/certificate,
# components/ui/bolt; values/ and values-ja/strings.xml).

TBA_SECURITY = Security(
    style="choice",
    choices={"none": NONE_JA_EN, "starttls": T("StartTLS", "StartTLS"), "ssl": SSL_TLS},
)

THUNDERBIRD_ANDROID = MailClient(
    device="phone",
    id="thunderbird_android",
    name=T("Thunderbird for Android（旧 K-9 Mail）", "Thunderbird for Android (formerly K-9 Mail)"),
    platforms=T("Android", "Android"),
    protocols=("pop3", "imap"),
    protocol_names={"pop3": T("POP3", "POP3"), "imap": T("IMAP", "IMAP")},
    incoming=TBA_SECURITY,
    outgoing=TBA_SECURITY,
    auth=Auth(
        label=T("認証方式", "Authentication"), value=T("通常のパスワード認証", "Normal password")
    ),
    screens=(
        Screen(
            title=T("メールアドレス", "Email address"),
            how=T(
                "初めて起動したときの画面、またはメニュー（≡）→「アカウントを追加」",
                "The first screen after installing, or the menu (≡) → Add account",
            ),
            fields=(Field(T("メールアドレス", "Email address"), "email"),),
            note=T(
                "「次へ」をタップします。「設定が見つかりました」と出たら「設定を編集」、"
                "「設定が見つかりませんでした」なら「手動設定」で次の画面に進みます。",
                "Tap “Next”. If it says “Configuration found”, tap “Edit configuration”; if "
                "“Configuration not found”, tap “Configure manually”.",
            ),
        ),
        Screen(
            title=T("受信サーバー設定", "Incoming server settings"),
            how=T(
                "「設定を編集」または「手動設定」の後に表示されます",
                "Shown after “Edit configuration” or “Configure manually”",
            ),
            fields=(
                Field(T("プロトコル", "Protocol"), "protocol"),
                Field(T("サーバー", "Server"), "incoming_host"),
                Field(T("セキュリティ", "Security"), "incoming_security"),
                Field(T("ポート番号", "Port"), "incoming_port"),
                Field(
                    T("認証方式", "Authentication"),
                    "fixed",
                    fixed=T("通常のパスワード認証", "Normal password"),
                ),
                Field(T("ユーザー名", "Username"), "username"),
                Field(T("パスワード", "Password"), "password"),
                Field(T("クライアント証明書", "Client certificate"), "fixed", fixed=NONE_JA_EN),
            ),
            note=T("「次へ」をタップします。", "Tap “Next”."),
        ),
        Screen(
            title=T("送信サーバー設定", "Outgoing server settings"),
            how=T(
                "受信サーバーの確認が済むと表示されます",
                "Shown after the incoming server is checked",
            ),
            fields=(
                Field(T("サーバー", "Server"), "outgoing_host"),
                Field(T("セキュリティ", "Security"), "outgoing_security"),
                Field(T("ポート番号", "Port"), "outgoing_port"),
                Field(T("認証方式", "Authentication"), "smtp_auth"),
                Field(T("ユーザー名", "Username"), "outgoing_username"),
                Field(T("パスワード", "Password"), "password"),
            ),
            note=T("「次へ」をタップします。", "Tap “Next”."),
        ),
        Screen(
            title=T("表示設定", "Display options"),
            how=T(
                "送信サーバーの確認が済むと表示されます",
                "Shown after the outgoing server is checked",
            ),
            fields=(
                Field(T("アカウント名", "Account name"), "fixed", fixed=ANY_NAME),
                Field(T("あなたのお名前", "Your name"), "display_name"),
            ),
            note=T(
                "「次へ」をタップすると「アカウントは正常に作成されました」と表示されます。",
                "Tap “Next”; the app says “Account successfully created”.",
            ),
        ),
    ),
    warnings=(
        T(
            "「警告」「証明書エラー」の画面が出たら「戻る (推奨)」をタップしてください。"
            "「リスクを承知した上で続行」は選ばず、サーバー名がこの案内どおりか確認してください。",
            "If the “Warning” / “Certificate error” screen appears, tap “Go back "
            "(recommended)”. Do not choose “Accept risk and continue”; check that the server "
            "name is exactly as in this guide.",
        ),
        T(
            "自動で見つかった設定に「この設定は信頼されていません」と出た場合は、「設定を編集」で"
            "この案内の値と同じか確認してください。",
            "If the configuration found says “This configuration is not trusted”, tap “Edit "
            "configuration” and compare it with the values in this guide.",
        ),
    ),
    troubleshooting=(TS_CERT_NAME, TS_SEND_ONLY, TS_RECEIVE_ONLY, TS_PASSWORD),
    sources=(
        "https://github.com/thunderbird/thunderbird-android/blob/main/feature/account/server/settings/src/main/res/values-ja/strings.xml",
        "https://github.com/thunderbird/thunderbird-android/blob/main/feature/account/setup/src/main/res/values-ja/strings.xml",
        "https://github.com/thunderbird/thunderbird-android/blob/main/feature/account/server/certificate/src/main/res/values-ja/strings.xml",
        "https://github.com/thunderbird/thunderbird-android/tree/main/feature/account",  # en-US values/
    ),
)

# --- 15. 秀丸メール (Hidemaru Mail, formerly 鶴亀メール) -----------------------------------------
# Japanese only (no English UI): the English column glosses each Japanese label. Labels from
# the vendor's help (help.maruo.co.jp/turukame: アカウント毎の設定・個人情報 / メールサーバー /
# メールサーバー・POP3/IMAP4 / メールサーバー・詳細 / トラブル対策, アカウントの新規作成).
# Like Shuriken, "over SSL" plus 「STARTTLSを使用」: both on is STARTTLS.

HIDEMARU_SECURITY = Security(
    style="two-boxes",
    box=T("POP over SSL", "POP over SSL"),
    starttls_box=T("STARTTLSを使用", "STARTTLSを使用 (use STARTTLS)"),
)

HIDEMARU = MailClient(
    id="hidemaru",
    name=T("秀丸メール", "Hidemaru Mail (秀丸メール)"),
    platforms=T("Windows（日本語版のみ）", "Windows (Japanese only)"),
    protocols=("pop3", "imap"),
    protocol_names={"pop3": T("POP3", "POP3"), "imap": T("IMAP4", "IMAP4")},
    incoming=HIDEMARU_SECURITY,
    incoming_by_protocol={
        "imap": Security(
            style="two-boxes",
            box=T("IMAP over SSL", "IMAP over SSL"),
            starttls_box=HIDEMARU_SECURITY.starttls_box,
        )
    },
    outgoing=Security(
        style="two-boxes",
        box=T("SMTP over SSL", "SMTP over SSL"),
        starttls_box=HIDEMARU_SECURITY.starttls_box,
    ),
    auth=Auth(
        label=T("認証方式: SMTP-AUTH", "認証方式: SMTP-AUTH (SMTP authentication)"),
        value=ON,
    ),
    screens=(
        Screen(
            title=T(
                "アカウント毎の設定・個人情報", "アカウント毎の設定・個人情報 (personal details)"
            ),
            how=T(
                "「ツール」→「アカウント毎の設定」→「個人情報」（新しく作る場合は「アカウントの"
                "新規作成」で「メールアカウント」を選んで「次へ」）",
                "ツール (Tools) → アカウント毎の設定 (account settings) → 個人情報 (for a new "
                "account: アカウントの新規作成 → メールアカウント → 次へ)",
            ),  # unverified: the menu path 「ツール」 (the help names the dialogs, not the menu)
            fields=(
                Field(T("名前", "名前 (your name)"), "display_name"),
                Field(T("メールアドレス", "メールアドレス (email address)"), "email"),
                Field(
                    T("受信メールサーバーの種類", "受信メールサーバーの種類 (server type)"),
                    "protocol",
                ),
            ),
        ),
        Screen(
            title=T(
                "アカウント毎の設定・メールサーバー",
                "アカウント毎の設定・メールサーバー (mail server)",
            ),
            how=T("同じ画面の「メールサーバー」", "Same dialog → メールサーバー (mail server)"),
            fields=(
                Field(
                    T(
                        "受信メールサーバー(POP3サーバー)",
                        "受信メールサーバー(POP3サーバー) (incoming)",
                    ),
                    "incoming_host",
                    only="pop3",
                ),
                Field(
                    T(
                        "受信メールサーバー(IMAP4サーバー)",
                        "受信メールサーバー(IMAP4サーバー) (incoming)",
                    ),
                    "incoming_host",
                    only="imap",
                ),
                Field(
                    T(
                        "送信メールサーバー(SMTPサーバー)",
                        "送信メールサーバー(SMTPサーバー) (outgoing)",
                    ),
                    "outgoing_host",
                ),
                Field(T("メールアカウント", "メールアカウント (user name)"), "username"),
                Field(
                    T("パスワード", "パスワード (password)"), "password"
                ),  # unverified: label (the help names only メールアカウント)
                Field(
                    T("認証方式: SMTP-AUTH", "認証方式: SMTP-AUTH (SMTP authentication)"),
                    "smtp_auth",
                ),
                Field(
                    T(
                        "認証方式: セキュリティで保護されたパスワード認証",
                        "認証方式: セキュリティで保護されたパスワード認証 (SPA)",
                    ),
                    "fixed",
                    fixed=OFF,
                ),
            ),
        ),
        Screen(
            title=T(
                "アカウント毎の設定・メールサーバー・詳細",
                "アカウント毎の設定・メールサーバー・詳細 (details)",
            ),
            how=T("「メールサーバー」の下の「詳細」", "メールサーバー → 詳細 (details)"),
            fields=(
                Field(
                    T("サーバーのポート番号: POP3", "サーバーのポート番号: POP3 (port)"),
                    "incoming_port",
                    only="pop3",
                ),
                Field(
                    T("サーバーのポート番号: IMAP4", "サーバーのポート番号: IMAP4 (port)"),
                    "incoming_port",
                    only="imap",
                ),
                Field(T("POP over SSL", "POP over SSL"), "incoming_security", only="pop3"),
                Field(T("IMAP over SSL", "IMAP over SSL"), "incoming_security", only="imap"),
                Field(
                    HIDEMARU_SECURITY.starttls_box,
                    "incoming_starttls",
                    note=T("受信側。995・993 ではオフ", "Incoming side; off for 995 and 993"),
                ),  # unverified: whether there is one STARTTLS box per side
                Field(
                    T("サーバーのポート番号: SMTP", "サーバーのポート番号: SMTP (port)"),
                    "outgoing_port",
                ),
                Field(T("SMTP over SSL", "SMTP over SSL"), "outgoing_security"),
                Field(
                    HIDEMARU_SECURITY.starttls_box,
                    "outgoing_starttls",
                    note=T(
                        "送信側。465 ではオフ、587 ではオン",
                        "Outgoing side; off for 465, on for 587",
                    ),
                ),
                Field(
                    T(
                        "SSL接続で、証明書を検証しない",
                        "SSL接続で、証明書を検証しない (do not verify)",
                    ),
                    "fixed",
                    fixed=OFF,
                    note=T(
                        "ここをオンにすると偽のサーバーに気付けなくなります。必ずオフにしてください。",
                        "With this on you cannot notice a fake server; always leave it off.",
                    ),
                ),
            ),
            note=T("「OK」をクリックして閉じます。", "Click OK to close."),
        ),
    ),
    warnings=(
        T(
            "「POP over SSL」（IMAP では「IMAP over SSL」）「SMTP over SSL」と「STARTTLSを使用」は"
            "組み合わせで決まります: 995・993・465 は「over SSL: オン／STARTTLS: オフ」、587 は"
            "「over SSL: オン／STARTTLS: オン」です。",
            "The boxes work together: 995, 993 and 465 are “over SSL” on / STARTTLS off; 587 is "
            "“over SSL” on / STARTTLS on.",
        ),
        T(
            "「SSL接続で、証明書を検証しない」は絶対にオンにしないでください。証明書の警告は"
            "サーバー名の誤りのサインです。",
            "Never turn on “SSL接続で、証明書を検証しない” (do not verify certificates); a "
            "certificate warning means the server name is wrong.",
        ),
    ),
    troubleshooting=(TS_CERT_NAME, TS_SEND_ONLY, TS_RECEIVE_ONLY, TS_PASSWORD),
    sources=(
        "https://help.maruo.co.jp/turukame/html/00370_IDH_ACCOUNTWIZ.html",
        "https://help.maruo.co.jp/turukame/html/01735_IDH_ACCOUNT_SERVER_POP3IMAP4.html",
        "https://help.maruo.co.jp/turukame/html/01750_IDH_ACCOUNT_SERVER.html",
        "https://help.maruo.co.jp/turukame/html/01760_IDH_ACCOUNT_SERVER2.html",
        "https://help.maruo.co.jp/turukame/html/01790_IDH_ACCOUNT_SERVER3.html",
    ),
)

# --- the catalog ----------------------------------------------------------------------------

CATALOG: dict[str, MailClient] = {
    client.id: client
    for client in (
        THUNDERBIRD,
        OUTLOOK,
        NEW_OUTLOOK,
        WINDOWS_LIVE_MAIL,
        OUTLOOK_EXPRESS,
        SHURIKEN,
        BECKY,
        APPLE_MAIL,
        IPHONE,
        GMAIL_ANDROID,
        GMAIL_WEB_POP,
        OUTLOOK_MAC,
        OUTLOOK_MOBILE,
        THUNDERBIRD_ANDROID,
        HIDEMARU,
    )
}
