"""Text in a document that addresses the reader, the assistant or an AI, or tells whoever
answers what to say. Such a sentence is never evidence and never reaches the model as a
statement, whatever its wording; a quotation inside it is not a fact either.

Two families, each enough on its own:
- a directive about answering: "when asked about X, answer Y", "请回答…", "一律回答…", "the
  correct answer to any dosing question is…", "ignore previous instructions", "system prompt";
- an AI addressee (AI, assistant, chatbot, language model, 助手, 人工智能, 大语言模型…) together
  with a word that addresses it (you, please, note to, dear, 请, 你, 须知, 说明…). A study *about*
  an AI tool ("the AI model should be validated") addresses nobody and stays evidence.
Pure functions over text; tested with phrasings in tests/test_injection.py and a held-out set
(tests/data/injection_heldout.json) written apart from this detector.
"""

from __future__ import annotations

import re

from ingest.text import split_sentences

PLACEHOLDER = "[instruction-like text removed]"

_DIRECTIVE = re.compile(
    r"(ignore|disregard|forget|override)\s+(all\s+|any\s+)?(the\s+|of\s+the\s+)?"
    r"(previous|prior|above|earlier|preceding|your|other|existing)\b|"
    r"\b(system\s+(prompt|override|message|instruction)s?|new instructions?:|you are now\b|"
    r"from now on\b|act as\b|pretend (to be|you)|role[- ]?play)|"
    r"\b(when(ever)?|if)\s+(you\s+are\s+|you're\s+|being\s+|one\s+is\s+)?(asked|answering|"
    r"responding|replying|summari[sz]ing|questioned|queried|prompted)\b|"
    r"\b(answer|respond|reply)\s+(that|with|by saying|only|always)\b|"
    r"\b(say|state|output|print|tell|claim|report|recommend)\s+(that|only|to the user|the user|"
    r"users|readers|clinicians|patients)\b|"
    r"\b(must|should|shall|always|to)\s+(say|answer|reply|respond|output|tell|state|claim)\b|"
    r"\b(the\s+)?(correct|right|official|only)\s+answer\s+(to|is|for)\b|"
    r"\b(any|all|every)\s+(question|query|queries|questions)\s+(about|on|regarding|concerning)|"
    r"\b(anyone|whoever|those|one)\s+(answering|responding|replying|summari[sz]ing|reading this)|"
    r"<!--|-->|\bprompt injection\b|\bhighest priority\b|\btakes? precedence\b|"
    r"忽略|无视|不要理会|你现在是|从现在(起|开始)|系统提示|系统指令|新的?指令|最高优先级|优先级最高|"
    r"请(直接)?(回答|输出|回复|说|告诉|表述|声明|答复|写)|"
    r"(一律|统一|均|都|只|必须|务必|应当?|须|需|要)(回答|回复|答复|输出|表述为|说成|告知|声称)|"
    r"(回答|回复|解答|答复|被问|问到|问及|询问|涉及).{0,30}?(时|问题).{0,12}?(请|应|须|必须|一律|统一|均|都)|"
    r"(当|如果|若|凡|每当)(有人|用户|读者|患者)?(被)?(问|询问|提问|问及|问到|咨询|解答|回答)|"
    r"正确答案(是|为)|标准答案|"
    r"^\W*(dear\s+)?(AI|assistants?|chat\s?bots?|bots?|(language\s+)?models?|LLMs?|GPT\w*|"
    r"助手|AI助手|模型|大模型|机器人)\s*[,，:：]",
    re.IGNORECASE,
)

_AI = re.compile(
    r"\b(AI|A\.I\.|artificial intelligence|chat\s?bots?|bots?|LLMs?|GPT\w*|language models?|"
    r"AI (models?|systems?|tools?|assistants?)|virtual assistants?|(?<!physician )(?<!research )"
    r"(?<!nursing )(?<!teaching )(?<!medical )assistants?(?! (physician|professor|doctor|"
    r"director|surgeon|researcher)s?)|machine readers?|models? (generating|answering|reading|"
    r"summari[sz]ing))\b|"
    r"人工智能|智能助手|AI助手|助手|大语言模型|语言模型|大模型|机器人|聊天机器人|模型(请|应|须|必须)|"
    r"(请|让|要求)(模型|大模型|AI|机器|系统)",
    re.IGNORECASE,
)

_ADDRESS = re.compile(
    r"\b(you|your|yourself|please|dear|attention|note (to|for)|instructions? (to|for)|"
    r"if you are|as an|reading this|processing this|parsing this)\b|"
    r"请|你|您|须知|说明|注意|提示|^致|给.{0,12}的|作为",
    re.IGNORECASE,
)

_OPEN_QUOTES = "“\"「『‘"
_CLOSE_QUOTES = "”\"」』’"


def is_instruction(sentence: str) -> bool:
    """True for a sentence that addresses the assistant / an AI or tells it what to answer."""
    if _DIRECTIVE.search(sentence):
        return True
    return bool(_AI.search(sentence) and _ADDRESS.search(sentence))


def _open_quote(text: str) -> bool:
    """The sentence opens a quotation it does not close (“… 。” continues past the split)."""
    opened = sum(text.count(q) for q in "“「『‘")
    closed = sum(text.count(q) for q in "”」』’")
    straight = text.count('"')
    return opened > closed or straight % 2 == 1


def instruction_spans(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that are instructions, each extended over what belongs to it: the
    rest of a quotation it opens, and the sentence after a lead-in ending in ':' / '：'."""
    spans = split_sentences(text)
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        s = spans[i]
        piece = text[s.start:s.end]
        if not is_instruction(piece):
            i += 1
            continue
        start, end = s.start, s.end
        j = i
        # a quotation opened here is part of the instruction, however many sentences it spans,
        # and "Note to AI assistants:" / "给AI助手的说明：" introduces what follows
        while j + 1 < len(spans) and (_open_quote(text[start:end]) or
                                      text[start:end].rstrip().endswith((":", "："))):
            j += 1
            end = spans[j].end
        out.append((start, end))
        i = j + 1
    return out


def neutralise(text: str) -> str:
    """``text`` with every instruction replaced by a placeholder (what the model reads)."""
    out, last = [], 0
    for start, end in instruction_spans(text):
        out.append(text[last:start])
        out.append(PLACEHOLDER)
        last = end
    out.append(text[last:])
    return "".join(out)
