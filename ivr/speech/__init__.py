"""Speech input for IVR menus: the caller says a service name instead of pressing a key.

Asterisk streams the caller's audio to hotline over AudioSocket (no shared filesystem
needed); vosk recognizes it against a grammar of the menu's phrases. See docs/speech.md.

Use::

    listener = MenuListener(config.speech)
    await listener.start()
    recognition = await listener.listen(session, {"informasi": "1", "pengaduan": "2"})
    key = recognition.key if recognition else None  # None: ask for a key
"""

from ivr.speech.grammar import MenuGrammar, Recognition
from ivr.speech.listener import MenuListener, SpeechSession

__all__ = ["MenuGrammar", "MenuListener", "Recognition", "SpeechSession"]
