"""Every prompt the IVR plays: file name (relative to Asterisk's sounds directory, no extension)
with its Indonesian and English text.

Asterisk looks a prompt up under the channel's language (``sounds/id/hotline/...`` once the
IVR has set ``CHANNEL(language)=id``), so one name serves both languages. :data:`CATALOGUE`
is the list the placeholder-audio generator (espeak-ng) and the recording studio work from.

``digits/*`` are the files Asterisk's SAY NUMBER and SAY DIGITS play; Asterisk ships them in
English only, so the Indonesian ones are in the catalogue too (``core_en`` marks prompts whose
English file is one of Asterisk's core sounds and needs no placeholder).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Prompt:
    name: str
    id: str
    """Indonesian text."""
    en: str
    """English text."""
    core_en: bool = False
    """The English file is one of Asterisk's core sounds."""


_ENTRIES: list[Prompt] = []


def _p(name: str, id_text: str, en_text: str, *, core_en: bool = False) -> str:
    _ENTRIES.append(Prompt(name, id_text, en_text, core_en))
    return name


# --- hotline 1500569: greeting, language, main menu ---------------------------------------------
GREETING = _p(
    "hotline/selamat-datang",
    "Selamat datang di layanan pelanggan Pegadaian, mengatasi masalah tanpa masalah. For English, press 9.",
    "Welcome to Pegadaian customer service. For English, press 9.",
)
ENGLISH_CHOSEN = _p("hotline/bahasa-dipilih", "Anda memilih Bahasa Indonesia.", "You have chosen English.")
MAIN_MENU = _p(
    "hotline/menu-utama",
    "Untuk informasi produk dan layanan, tekan 1. Pengaduan, tekan 2. Permintaan, tekan 3. Saran, tekan 4. "
    "Pembayaran, tekan 5. Untuk berbicara dengan agen kami, tekan 0.",
    "For information on products and services, press 1. Complaints, press 2. Requests, press 3. "
    "Suggestions, press 4. Payment, press 5. To speak to an agent, press 0.",
)
INVALID = _p(
    "hotline/pilihan-salah",
    "Maaf, pilihan Anda tidak tersedia. Silakan coba lagi.",
    "Sorry, that option is not available. Please try again.",
)
NO_INPUT = _p(
    "hotline/tidak-ada-pilihan",
    "Maaf, kami tidak menerima pilihan Anda. Silakan coba lagi.",
    "Sorry, we did not receive your choice. Please try again.",
)
INVALID_ENTRY = _p(
    "hotline/nomor-salah",
    "Maaf, nomor yang Anda masukkan tidak sesuai. Silakan coba lagi.",
    "Sorry, the number you entered is not valid. Please try again.",
)
TRANSFER_AGENT = _p(
    "hotline/sambung-agen",
    "Mohon tunggu, Anda akan dihubungkan dengan agen kami.",
    "Please hold, we are connecting you to one of our agents.",
)
PLEASE_WAIT = _p("hotline/mohon-tunggu", "Mohon tunggu sebentar.", "One moment, please.")
SERVICE_DOWN = _p(
    "hotline/layanan-tidak-tersedia",
    "Mohon maaf, layanan ini sedang tidak dapat digunakan.",
    "We are sorry, this service is not available at the moment.",
)
THANK_YOU = _p(
    "hotline/terima-kasih",
    "Terima kasih telah menghubungi Pegadaian.",
    "Thank you for calling Pegadaian.",
)
PRESS = _p("hotline/tekan", "tekan", "press")
RUPIAH = _p("hotline/rupiah", "rupiah", "rupiah")

# --- customer identification ----------------------------------------------------------------
IDENTIFY_OFFER = _p(
    "hotline/identifikasi-tawar",
    "Jika Anda nasabah Pegadaian dan ingin kami kenali, tekan 1 sekarang. "
    "Atau tetap di saluran untuk melanjutkan.",
    "If you are a Pegadaian customer and would like us to identify you, press 1 now. "
    "Or stay on the line to continue.",
)
ENTER_CUSTOMER = _p(
    "hotline/masukkan-nomor-nasabah",
    "Silakan masukkan nomor nasabah atau nomor kontrak Anda, diakhiri tanda pagar.",
    "Please enter your customer or contract number, followed by the hash key.",
)
ENTER_BIRTH_DATE = _p(
    "hotline/masukkan-tanggal-lahir",
    "Untuk verifikasi, masukkan tanggal lahir Anda: tanggal, bulan dan tahun, delapan angka, "
    "diakhiri tanda pagar.",
    "To verify, enter your date of birth: day, month and year, eight digits, followed by the hash key.",
)
VERIFIED = _p(
    "hotline/verifikasi-berhasil",
    "Terima kasih, data Anda telah terverifikasi.",
    "Thank you, your identity has been verified.",
)
NOT_VERIFIED = _p(
    "hotline/verifikasi-gagal",
    "Maaf, data Anda tidak dapat diverifikasi. Agen kami akan membantu Anda.",
    "Sorry, we could not verify your identity. Our agent will help you.",
)
NUMBER_UNKNOWN = _p(
    "hotline/nomor-tidak-terdaftar",
    "Maaf, nomor yang Anda masukkan tidak terdaftar.",
    "Sorry, the number you entered is not registered.",
)
COMPLAINT_NOTED = _p(
    "hotline/pengaduan-dicatat",
    "Pengaduan Anda telah kami catat. Nomor tiket Anda adalah",
    "Your complaint has been recorded. Your ticket number is",
)

# --- online payment ------------------------------------------------------------------------
PAY_ENTER_CONTRACT = _p(
    "hotline/bayar-masukkan-kontrak",
    "Silakan masukkan nomor kontrak Anda, diakhiri tanda pagar.",
    "Please enter your contract number, followed by the hash key.",
)
PAY_BILL_IS = _p("hotline/bayar-tagihan-anda", "Tagihan Anda sebesar", "Your bill is")
PAY_DUE_ON = _p("hotline/bayar-jatuh-tempo", "jatuh tempo pada tanggal", "due on")
PAY_NOTHING_DUE = _p(
    "hotline/bayar-tidak-ada-tagihan",
    "Tidak ada tagihan untuk kontrak ini.",
    "There is nothing to pay on this contract.",
)
PAY_CHOOSE = _p(
    "hotline/bayar-pilih",
    "Silakan pilih pembayaran Anda. Untuk kembali, tekan bintang.",
    "Please choose what to pay. To go back, press star.",
)
PAY_OPTION_PELUNASAN = _p("hotline/opsi-pelunasan", "Untuk pelunasan sebesar", "For full repayment of")
PAY_OPTION_PERPANJANGAN = _p(
    "hotline/opsi-perpanjangan", "Untuk perpanjangan, sewa modal sebesar", "For an extension, a rental fee of"
)
PAY_OPTION_ANGSURAN = _p(
    "hotline/opsi-angsuran", "Untuk angsuran bulan ini sebesar", "For this month's installment of"
)
PAY_OPTION_OTHER = _p("hotline/opsi-lain", "Untuk pembayaran sebesar", "For a payment of")
PAY_YOU_WILL_PAY = _p("hotline/bayar-anda-akan-membayar", "Anda akan membayar", "You are about to pay")
PAY_CONFIRM = _p(
    "hotline/bayar-konfirmasi",
    "Untuk konfirmasi, tekan 1. Untuk membatalkan, tekan 2. Untuk kembali, tekan bintang.",
    "To confirm, press 1. To cancel, press 2. To go back, press star.",
)
PAY_PROCESSING = _p(
    "hotline/bayar-diproses",
    "Mohon tunggu, pembayaran Anda sedang diproses.",
    "Please hold while we process your payment.",
)
PAY_DONE = _p(
    "hotline/bayar-berhasil",
    "Pembayaran Anda berhasil. Nomor referensi Anda adalah",
    "Your payment was successful. Your reference number is",
)
PAY_DECLINED = _p(
    "hotline/bayar-ditolak",
    "Maaf, pembayaran Anda tidak dapat diproses. Tidak ada dana yang terpotong.",
    "Sorry, your payment could not be processed. Nothing has been charged.",
)
PAY_UNCERTAIN = _p(
    "hotline/bayar-belum-pasti",
    "Mohon maaf, sistem pembayaran sedang mengalami gangguan. Pembayaran Anda tidak akan terpotong dua kali; "
    "agen kami dapat memastikan statusnya.",
    "We are sorry, the payment system has a problem. You will never be charged twice; "
    "our agent can confirm the status.",
)
PAY_CANCELLED = _p("hotline/bayar-dibatalkan", "Pembayaran dibatalkan.", "The payment was cancelled.")
PAY_END_MENU = _p(
    "hotline/bayar-selesai-menu",
    "Untuk mengakhiri panggilan, tekan 1. Untuk pembayaran lain, tekan 2. "
    "Untuk berbicara dengan agen kami, tekan 0.",
    "To end the call, press 1. For another payment, press 2. To speak to an agent, press 0.",
)
MONTHS: Final = tuple(
    _p(f"hotline/bulan-{n:02d}", id_name, en_name)
    for n, (id_name, en_name) in enumerate(
        (
            ("Januari", "January"),
            ("Februari", "February"),
            ("Maret", "March"),
            ("April", "April"),
            ("Mei", "May"),
            ("Juni", "June"),
            ("Juli", "July"),
            ("Agustus", "August"),
            ("September", "September"),
            ("Oktober", "October"),
            ("November", "November"),
            ("Desember", "December"),
        ),
        start=1,
    )
)
"""Month names, January first (``MONTHS[due.month - 1]``)."""

# --- SAPA (outlet line) --------------------------------------------------------------------
SAPA_GREETING = _p(
    "sapa/selamat-datang",
    "Selamat datang di SAPA Pegadaian, layanan bantuan untuk outlet.",
    "Welcome to SAPA Pegadaian, the outlet help line.",
)
SAPA_ENTER_OUTLET = _p(
    "sapa/masukkan-kode-outlet",
    "Nomor telepon Anda belum terdaftar. Silakan masukkan kode outlet Anda, diakhiri tanda pagar.",
    "Your phone number is not registered. Please enter your outlet code, followed by the hash key.",
)
SAPA_ENTER_PIN = _p(
    "sapa/masukkan-pin",
    "Masukkan PIN outlet Anda, diakhiri tanda pagar.",
    "Enter your outlet PIN, followed by the hash key.",
)
SAPA_UNKNOWN_OUTLET = _p(
    "sapa/outlet-tidak-dikenal",
    "Maaf, kode outlet atau PIN tidak sesuai.",
    "Sorry, the outlet code or PIN is not correct.",
)
SAPA_MENU = _p(
    "sapa/menu",
    "Untuk masalah aplikasi Passion, tekan 1. Masalah aplikasi non-core, tekan 2. Status tiket, tekan 3. "
    "Untuk berbicara dengan helpdesk, tekan 0.",
    "For a problem with the Passion application, press 1. A problem with another application, press 2. "
    "Ticket status, press 3. To speak to the helpdesk, press 0.",
)
SAPA_ENTER_TICKET = _p(
    "sapa/masukkan-nomor-tiket",
    "Masukkan nomor tiket Anda, diakhiri tanda pagar.",
    "Enter your ticket number, followed by the hash key.",
)
SAPA_TICKET = _p("sapa/tiket", "Tiket nomor", "Ticket number")
SAPA_TICKET_UNKNOWN = _p(
    "sapa/tiket-tidak-ditemukan",
    "Maaf, tiket dengan nomor tersebut tidak ditemukan.",
    "Sorry, there is no ticket with that number.",
)
SAPA_AFTER_STATUS = _p(
    "sapa/menu-setelah-status",
    "Untuk memeriksa tiket lain, tekan 1. Untuk berbicara dengan helpdesk, tekan 0. "
    "Untuk kembali, tekan bintang.",
    "To check another ticket, press 1. To speak to the helpdesk, press 0. To go back, press star.",
)
TICKET_STATUS: Final = {
    "open": _p(
        "sapa/status-terbuka", "masih terbuka dan menunggu penanganan.", "is open, waiting to be handled."
    ),
    "in progress": _p("sapa/status-dikerjakan", "sedang dikerjakan.", "is being worked on."),
    "resolved": _p("sapa/status-selesai", "sudah diselesaikan.", "has been resolved."),
    "closed": _p("sapa/status-ditutup", "sudah ditutup.", "has been closed."),
}
"""Prompt per ticket status name (lower case); others use TICKET_STATUS_OTHER."""
TICKET_STATUS_OTHER = _p("sapa/status-diproses", "sedang diproses.", "is being processed.")

# --- digits for SAY NUMBER / SAY DIGITS in Indonesian ----------------------------------------
_ID_NUMBERS: Final = (
    "nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh",
    "sebelas", "dua belas", "tiga belas", "empat belas", "lima belas", "enam belas", "tujuh belas",
    "delapan belas", "sembilan belas",
)  # fmt: skip
_EN_NUMBERS: Final = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
for _n, (_id, _en) in enumerate(zip(_ID_NUMBERS, _EN_NUMBERS, strict=True)):
    _p(f"digits/{_n}", _id, _en, core_en=True)
for _tens, _id, _en in (
    (20, "dua puluh", "twenty"),
    (30, "tiga puluh", "thirty"),
    (40, "empat puluh", "forty"),
    (50, "lima puluh", "fifty"),
    (60, "enam puluh", "sixty"),
    (70, "tujuh puluh", "seventy"),
    (80, "delapan puluh", "eighty"),
    (90, "sembilan puluh", "ninety"),
):
    _p(f"digits/{_tens}", _id, _en, core_en=True)
for _word, _id, _en in (
    ("hundred", "ratus", "hundred"),
    ("thousand", "ribu", "thousand"),
    ("million", "juta", "million"),
    ("billion", "miliar", "billion"),
    ("star", "bintang", "star"),
    ("pound", "pagar", "pound"),
):
    _p(f"digits/{_word}", _id, _en, core_en=True)

CATALOGUE: Final[tuple[Prompt, ...]] = tuple(_ENTRIES)
"""Every prompt file the IVR may play, in the order above (names are unique)."""


def by_name() -> dict[str, Prompt]:
    """The catalogue keyed by file name."""
    return {p.name: p for p in CATALOGUE}
