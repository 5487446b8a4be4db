"""Prompt file names the IVR plays (relative to Asterisk's sounds directory, no extension).

Custom Indonesian prompts live under ``hotline/<lang>/``; ``beep`` is an Asterisk core
sound that is always present, used where a tone is enough.
"""

from __future__ import annotations

from typing import Final

GREETING: Final = "hotline/selamat-datang"
"""'Selamat datang di Pegadaian, mengatasi masalah tanpa masalah.'"""
MAIN_MENU: Final = "hotline/menu-utama"
"""'Untuk informasi tekan 1, pengaduan 2, permintaan 3, saran 4, pembayaran 5, agen tekan 0.'"""
INVALID: Final = "hotline/pilihan-salah"
"""'Maaf, pilihan Anda tidak tersedia.'"""
NO_INPUT: Final = "hotline/tidak-ada-pilihan"
"""'Maaf, kami tidak menerima pilihan Anda.'"""
TRANSFER_AGENT: Final = "hotline/sambung-agen"
"""'Mohon tunggu, Anda akan dihubungkan dengan agen kami.'"""
