"""Pure core: the scanner's rules, grouped by risk class. Every pattern is linear (no nested quantifiers)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    """One pattern: id, risk class, severity 1-10, whether to redact the match, and whether a
    quotation in a ticket that discusses the topic (a feature about injection, a bug report with a
    command in it) may soften it."""

    rule_id: str
    risk_class: str
    severity: int
    pattern: re.Pattern[str]
    redact: bool = False
    quotable: bool = True
    # Lower-case substrings of which at least one must occur for the pattern to match at all: a
    # C-speed `in` test that spares most regex work on ordinary tickets. Empty = always run.
    triggers: tuple[str, ...] = ()


# Each tuple must hold a substring of every possible match of its rule (checked by a test).
_TRIGGERS: dict[str, tuple[str, ...]] = {
    "override.ignore_previous": ("ignor", "disregard", "forget", "overrid", "bypass", "skip", "drop", "abandon", "neglect", "overlook", "discard", "never"),
    "override.multilingual": ("ignor", "oubli", "vergiss", "olvida", "игнор", "忽略", "無視", "前の指示"),
    "override.new_instructions": ("instruction", "task", "order", "directive", "rules"),
    "override.persona": ("you are", "from now on", "pretend", "act as", "god mode", "developer mode"),
    "role.fake_system_tag": ("<", "[inst", "[system", "[/inst", "[/system"),
    "role.end_of_input": ("end of", "ends here", "begin", "---", "===", "###"),
    "role.reveal_prompt": ("prompt", "instruction", "rules", "guidelines", "above", "text you were given", "conversation"),
    "exfil.send_secrets": ("secret", "token", "credential", "key", "password", ".env", "id_rsa", "env", "cookie", "to my "),
    "exfil.to_remote": ("curl", "wget", "fetch", "nc", "netcat", "scp", "rsync", "webhook.site", "requestbin", "ngrok", "pipedream", "burpcollaborator", "interact.sh"),
    "exfil.read_secrets": (".env", "id_rsa", "id_ed25519", ".aws", "netrc", "npmrc", "shadow", "printenv", "env"),
    "exfil.secret_literal": ("sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "lin_api_", "akia", "xox"),
    "rce.pipe_to_shell": ("|",),
    "rce.reverse_shell": ("/dev/tcp", "nc", "bash -i", "mkfifo", "socket.socket", "powershell"),
    "rce.destructive": ("rm", "no-preserve-root", "mkfs.", "dd", "(", "chmod"),
    "rce.data_destruction": ("drop", "truncate", "delete", "remove", "wipe", "supprim"),
    "rce.run_this": ("run", "exec", "eval"),
    "escalation.bypass_review": ("without", "branch protection", "required", "code owner", "codeowner", "status check", "force", "push", "approve", "skip"),
    "escalation.grant_access": ("admin", "owner", "maintainer", "access", "collaborator", "sudoer"),
    "escalation.ci_secrets": (".github/workflows", ".gitlab-ci", "jenkinsfile", "ci", "secrets."),
    "safety.bypass": ("safety", "security", "guardrail", "polic", "filter", "restriction", "scanner", "sandbox", "moderation", "ethical", "dan", "anything now", "jailb", "limitation", "censorship", "moral"),
    "agent.addressed": ("ai", "llm", "language model", "agent", "assistant", "copilot", "claude", "gpt", "bot", "coding", "automated"),
    "agent.secret_instruction": ("do not", "silently", "secretly", "quietly", "covertly"),
    "exfil.ask_secret": ("what", "tell me", "confirm", "give me", "share", "reveal", "need your"),
    "role.authority_claim": ("your",),
    "agent.inject_code": ("code", "snippet", "excerpt", "script", "block"),
    "agent.manipulate_output": ("reply", "response", "answer", "output", "summary"),
    "rce.code_payload": ("shutil", "os.", "subprocess", "requests.post"),
}  # fmt: skip


def _rule(
    rule_id: str, risk_class: str, severity: int, pattern: str, *, redact: bool = False, quotable: bool = True
) -> Rule:
    compiled = re.compile(pattern, re.IGNORECASE)
    return Rule(rule_id, risk_class, severity, compiled, redact, quotable, _TRIGGERS.get(rule_id, ()))


_W = r"[^\n.!?]{0,40}?"  # a few words on the same clause, bounded
_PRIOR = r"(?:previous|prior|above|earlier|preceding|foregoing|initial|original|system|developer|all|your)"
_RULESET = r"(?:instructions?|prompts?|rules|directions?|directives?|guidelines|context|commands?|orders|tasks?|constraints|restrictions|programming|guardrails)"

RULES: tuple[Rule, ...] = (
    # --- instruction override ------------------------------------------------------------
    _rule(
        "override.ignore_previous",
        "instruction_override",
        7,
        rf"\b(?:ignore|disregard|forget|override|bypass|abandon|neglect|overlook|discard|nevermind|never mind)\b{_W}\b{_PRIOR}\b{_W}\b{_RULESET}\b"
        r"|\b(?:ignore|disregard|bypass)\s+(?:the\s+|all\s+|any\s+)?(?:review|branch|security|safety|ci|repository|repo|project|contribution|approval)\s+(?:rules|polic(?:y|ies)|guidelines|process|requirements)\b"
        r"|\b(?:ignore|disregard|forget)\s+(?:everything|anything|all)\s+(?:you(?:'ve| have)? been (?:told|given)|(?:said|written|stated) (?:above|before|earlier))"
        r"|\b(?:ignore|disregard|forget)\s+(?:the\s+|all\s+)?(?:above|previous|preceding|prior)(?:\s+(?:text|content|statements?|messages?|conversation|webpage|document|tasks?))?\s*(?:and|then|,|\.)\s",
    ),
    _rule(
        "override.multilingual",
        "instruction_override",
        7,
        r"ignor(?:a|ez|iere|ieren|uj|eer)\w{0,3}\s+(?:\w+\s+){0,3}(?:instrucciones|instructions|anweisungen|istruzioni|instruções|instrucoes|инструкции|instructies|instrukcje|指示)"
        r"|(?:oublie[zr]?|vergiss|olvida)\s+(?:\w+\s+){0,3}(?:instructions|anweisungen|instrucciones|consignes)"
        r"|игнорир\w{0,6}\s+(?:\w+\s+){0,3}инструкц|忽略(?:之前|以上|先前|所有)|無視して|前の指示",
    ),
    _rule(
        "override.new_instructions",
        "instruction_override",
        5,
        r"\b(?:new|updated|real|actual|revised|secret|hidden|true|important)\s+(?:instructions?|task|orders|directive)s?\s*(?::|are\b|is\b|follow)"
        r"|\bnow (?:focus on|do|perform|execute) (?:your|the|this) new (?:task|instructions?)"
        r"|\b(?:your|the|my) (?:instructions|rules|orders) (?:are|have been) (?:all |now )?(?:changed|updated|replaced|revoked|different)\b",
    ),
    _rule(
        "override.persona",
        "instruction_override",
        5,
        r"\byou are (?:now|no longer)\b|\byou are (?:now )?free to (?:respond|answer|say|do)\b|\bfrom now on,? (?:you|act|respond|answer)\b|\bpretend (?:to be|you are|that you)\b"
        r"|\bact as (?:if you were |an? )?(?:unrestricted|unfiltered|evil|jailbroken|different|root|admin|system|developer)"
        r"|\b(?:god mode|developer mode (?:enabled|on|activated))\b",
    ),
    # --- role / system prompt spoofing ---------------------------------------------------------
    _rule(
        "role.fake_system_tag",
        "role_spoofing",
        7,
        r"<\s*/?\s*(?:system|assistant|sys|im_start|im_end|instructions?|admin)\s*>|\[/?(?:INST|SYSTEM)\]|<<\s*/?SYS\s*>>|<\|(?:im_start|im_end|system|endoftext)\|>",
        quotable=False,
    ),
    _rule(
        "role.fake_turn",
        "role_spoofing",
        6,
        # Not on the first line: a title such as "System: settings page" is a topic, not a turn.
        r"\n[ \t>#*]{0,6}(?:system|assistant|ai|claude|gpt|human|user)[ \t]*(?:prompt|message)?[ \t]*:[ \t]*[^\n]{0,60}?"
        r"\b(?:you|your|ignore|the user|from now|new|must|always|never|override|grant|run|execute|print|reveal|disable|sure|i will|i'll|admin|maintenance)\b",
        quotable=False,
    ),
    _rule(
        "role.end_of_input",
        "role_spoofing",
        6,
        r"\b(?:end of (?:ticket|issue|user input|document|context|prompt|instructions|description)|ticket ends here|begin(?:ning)? of (?:new |system )?instructions)\b"
        r"|(?:---|===|###)\s*(?:end(?: of \w+)?\s*(?:---|===|###)|system (?:prompt|message|instructions)|new instructions)",
        quotable=False,
    ),
    _rule(
        "role.reveal_prompt",
        "role_spoofing",
        6,
        rf"\b(?:reveal|print|show|output|repeat|leak|display|tell me|give me|what (?:is|are)|translate|encode|summari[sz]e|recite|spell out|write out|opposite of)\b{_W}\b(?:system prompt|system instructions|(?:hidden|initial|starting|original|first|secret) (?:instructions|prompt|message|text)|your (?:instructions|prompt|rules|guidelines)|prompt texts?|the (?:text|words) above|text you were given|(?:entire |whole )?conversation (?:back|so far|above|word for word))"
        r"|\bstart your (?:answer|reply|response) with\W{0,3}(?:my|your) (?:instructions|prompt|rules)",
    ),
    # --- secret and data exfiltration -------------------------------------------------------------
    _rule(
        "exfil.send_secrets",
        "exfiltration",
        8,
        r"\b(?:send|post|upload|exfiltrate|leak|forward|e-?mail|paste|share|transmit|copy|dump|print|output|reveal|list|give me)\b"
        r"(?:\s+(?:me|us|out|over))?\s+(?:(?:the|all|any|your|my|our|its|their|these|those|every|of|and|other|contents?)\s+){0,4}(?:[\w.@/~-]+\s+){0,2}?"
        r"(?:secrets?|(?:access |api |auth |bearer |github |npm |aws )?tokens?|credentials?|api[ _-]?keys?|passwords?|\.env\b|private (?:ssh )?keys?|ssh private keys?|keys in ~/\.ssh|id_rsa|env(?:ironment)? var(?:iable)?s|GITHUB_TOKEN|AWS_SECRET|session cookies?)"
        r"|\b(?:send|post|upload|copy|push|forward)\b[^\n]{0,60}\bto my (?:own )?(?:server|endpoint|host|bucket|url|site|domain|machine)\b",
    ),
    _rule(
        "exfil.to_remote",
        "exfiltration",
        7,
        r"\b(?:curl|wget|fetch|nc|netcat|scp|rsync)\b[^\n]{0,120}(?:\$\{?[A-Z_]*(?:TOKEN|SECRET|KEY|PASS)|@?~?/?\.(?:env|ssh|aws|npmrc|netrc)|/etc/(?:passwd|shadow))"
        r"|\b(?:webhook\.site|requestbin|ngrok\.io|pipedream\.net|burpcollaborator|interact\.sh)\b",
        quotable=False,
    ),
    _rule(
        "exfil.read_secrets",
        "exfiltration",
        5,
        r"\b(?:cat|type|less|more|head|tail|read|open|print)\s+(?:the\s+)?(?:contents? of\s+)?[~/.\w-]{0,60}(?:\.env\b|id_rsa|id_ed25519|\.aws/credentials|\.netrc|\.npmrc|/etc/shadow)|\bprintenv\b|\benv\s*\|\s*(?:curl|nc|base64)",
    ),
    _rule(
        "exfil.secret_literal",
        "exfiltration",
        3,
        r"\b(?:sk-[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|lin_api_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|xox[bpars]-[A-Za-z0-9-]{10,})",
        redact=True,
    ),
    # --- remote code execution and destruction ------------------------------------------------------
    _rule(
        "rce.pipe_to_shell",
        "code_execution",
        4,
        r"\b(?:curl|wget|iwr|irm)\b[^\n|]{1,300}\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b|\|\s*(?:iex|invoke-expression)\b",
    ),
    _rule(
        "rce.reverse_shell",
        "code_execution",
        7,
        r"/dev/tcp/|\bnc\b[^\n]{0,40}\s-[a-z]*e\s|\bbash -i\b|\bmkfifo\b[^\n]{0,80}\bnc\b|socket\.socket\([^\n]{0,80}(?:connect|dup2)|\bpowershell\b[^\n]{0,40}-e(?:nc|ncodedcommand)?\s",
        quotable=False,
    ),
    _rule(
        "rce.destructive",
        "code_execution",
        6,
        r"\brm\s+-[a-z]*r[a-z]*\s+(?:--no-preserve-root\s+)?(?:/|~|\$HOME|\*|/\*)(?:\s|$|;|`|'|\x22)|--no-preserve-root|\bmkfs\.|\bdd\s+if=/dev/(?:zero|random|urandom)\s+of=/dev/"
        r"|:\(\)\s*\{\s*:\|:&\s*\};:|\bchmod\s+-R\s+777\s+/(?:\s|$)",
    ),
    _rule(
        "rce.data_destruction",
        "code_execution",
        2,
        r"\b(?:drop|truncate)\s+(?:table|database)\b|\bdelete (?:all|every)\b[^\n]{0,40}\b(?:repos?|repositories|branches|files|data|users|records)"
        r"|\b(?:delete|remove|wipe)\b[^\n]{0,20}\b(?:the )?(?:main|master|production) branch\b|\bsupprime\w*\s+(?:\w+\s+){0,2}branche\b",
    ),
    _rule(
        "rce.run_this",
        "code_execution",
        4,
        r"\b(?:run|execute|exec|eval)\b[^\n]{0,30}\b(?:this|the following|following|these)\b[^\n]{0,30}\b(?:command|script|code|payload|one-liner)s?\b[^\n]{0,30}(?:without|silently|immediately|right away|first|before)",
    ),
    # --- tool / permission escalation ---------------------------------------------------------------
    _rule(
        "escalation.bypass_review",
        "permission_escalation",
        6,
        r"\b(?:merge|push|deploy|commit|release)\b[^\n]{0,40}\bwithout\b[^\n]{0,20}\b(?:review|approval|tests?|ci|checks)\b"
        r"|\b(?:disable|remove|turn off|delete|bypass)\s+(?:the\s+)?(?:branch protection|required (?:reviews|checks)|code ?owners|status checks)\b"
        r"|\bforce[ -]?push\b[^\n]{0,30}\b(?:to )?(?:main|master|production|release)\b|\bpush\b[^\n]{0,20}--force\b[^\n]{0,20}\b(?:main|master)\b"
        r"|\bapprove (?:your|its|the) own (?:pr|pull request|change)|\bskip (?:ci|the tests|review)\b",
    ),
    _rule(
        "escalation.grant_access",
        "permission_escalation",
        6,
        r"\b(?:add|make|grant|give)\b[^\n]{0,10}\b(?:me|my (?:account|user)|@[\w-]+|this account)\b[^\n]{0,30}\b(?:as (?:an? )?)?(?:admin(?:istrator)?|owner|maintainer|write access|push access|collaborator|sudoers?)\b",
    ),
    _rule(
        "escalation.ci_secrets",
        "permission_escalation",
        7,
        r"\b(?:edit|modify|change|update|add)\b[^\n]{0,60}(?:\.github/workflows|\.gitlab-ci\.yml|jenkinsfile|ci (?:config|pipeline|workflow))[^\n]{0,80}\b(?:secrets?|tokens?|echo|print|curl|env)\b"
        r"|\$\{\{\s*secrets\.[A-Z_]+\s*\}\}[^\n]{0,40}\b(?:curl|echo|base64|nc)\b",
    ),
    # --- policy / safety bypass ------------------------------------------------------------------
    _rule(
        "safety.bypass",
        "safety_bypass",
        6,
        r"\b(?:bypass|disable|ignore|turn off|deactivate|circumvent|evade|remove)\s+(?:the\s+|all\s+|your\s+|any\s+)?(?:safety|security|guardrails?|content (?:polic(?:y|ies)|filters?)|restrictions|filters?|scanners?|sandbox|moderation|ethical (?:guidelines|constraints))\b"
        r"|\bDAN (?:mode )?(?:enabled|activated|is on)\b|\bdo anything now\b|\byou are (?:now )?jailbroken\b|\b(?:enable|enter|activate) jailbreak\b|\bwithout (?:any )?(?:restrictions|limitations|filters|censorship)\b|\bno (?:ethical|moral) (?:constraints|guidelines|limits)\b",
    ),
    # --- requests aimed at the agent, not the feature -----------------------------------------------------
    _rule(
        "agent.addressed",
        "agent_targeting",
        4,
        r"\b(?:note|message|instructions?|attention|hey|dear)\s+(?:to|for)?\s*(?:the\s+|any\s+|all\s+)?(?:ai|llm|language model|coding|automated|agent|assistant|copilot|claude|gpt|chatgpt|bot)(?:\s+(?:agent|assistant|model|bot)s?)?\b\s*[:,-]"
        r"|\bif you(?:'re| are) (?:an? )?(?:ai|llm|language model|coding agent|automated agent|assistant|bot)\b"
        r"|\b(?:ai|llm|agent|assistant|copilot|claude|gpt)s?(?:\s+(?:agent|assistant|model|bot)s?)?\s+(?:reading|processing|handling|working on) this\b",
    ),
    _rule(
        "agent.secret_instruction",
        "agent_targeting",
        5,
        r"\bdo not (?:tell|inform|mention|show|reveal)\b[^\n]{0,30}\b(?:the user|anyone|the (?:human|reviewer|maintainer)s?|your (?:user|operator))\b"
        r"|\b(?:silently|secretly|quietly|covertly)\b[^\n]{0,20}\b(?:add|insert|change|send|run|install|commit|include)\b",
    ),
    _rule(
        "exfil.ask_secret",
        "exfiltration",
        6,
        r"\b(?:what(?:'s| is) (?:your|the) |tell me (?:your|the) |confirm (?:your|the) |give me (?:your|the) |share (?:your|the) |reveal (?:your|the) |need your )"
        r"(?:secret key|password|api key|passphrase|credentials|pin code|secret|private key|access token)\b",
    ),
    _rule(
        "role.authority_claim",
        "role_spoofing",
        3,
        r"\b(?:i am|i'm|as) your (?:developer|creator|boss|admin|administrator|owner|operator|supervisor|programmer|maker)\b",
    ),
    _rule(
        "agent.inject_code",
        "agent_targeting",
        4,
        r"\b(?:append|integrate|blend|insert|embed|inject|incorporate|assimilate|weave|slip)\b[^\n]{0,40}\b(?:below|following|subsequent|this|these)\b[^\n]{0,20}\b(?:code|snippet|excerpt|script|block)\b"
        r"[^\n]{0,60}\b(?:to|into|within|in|somewhere)\b[^\n]{0,30}\b(?:your|the)\b[^\n]{0,20}\b(?:code|algorithm|implementation|logic|program|solution)",
    ),
    _rule(
        "agent.manipulate_output",
        "agent_targeting",
        6,
        r"\b(?:integrate|insert|include|embed|slip|weave|hint(?:ing)? at|mention|promote|advertise|end|start|begin|conclude)\b[^\n]{0,60}\b(?:in|into|within|to|with|by)\s+your (?:reply|response|answer|output|summary)\b"
        r"|\b(?:enhance|end|start|begin|conclude) your (?:reply|response|answer|output)\b[^\n]{0,20}\b(?:by|with)\b",
    ),
    _rule(
        "rce.code_payload",
        "code_execution",
        4,
        r"shutil\.rmtree\(\s*[\"']/[\"']|os\.remove\(\s*[\"']/(?:lib|etc|bin|usr|boot)|os\.(?:system|popen)\(\s*[\"'](?:rm\s+-rf?\s+/[\"']|curl|wget|nc|bash|sh)\b"
        r"|subprocess\.\w+\(\s*\[?\s*[\"'](?:rm|curl|wget|nc|bash|sh)\b|requests\.post\([^\n]{0,40}https?://[^\n]{0,80}(?:net_if|environ|getpass|platform|uname|passwd)",
    ),
)
