/*
 * The nRF9160's GNSS receiver (libmodem's nrf_modem_gnss) for sensors/gnss:
 * NMEA mask GGA|RMC, a fix a second (fix interval 1). The modem calls the
 * event handler in interrupt context: on NRF_MODEM_GNSS_EVT_NMEA it reads the
 * sentence (nrf_modem_gnss_read, allowed there) into a lock-free ring
 * (native/common/line-ring.h) and raises an EventSet, whose first raise posts
 * to the XS thread. There the sentences are grouped into fixes: a GGA starts
 * one, the RMC (which the modem sends after the GGA of the same fix) ends it.
 *
 * GNSS needs a system mode with GNSS (AT%XSYSTEMMODE with its GNSS field 1)
 * set while the modem is offline, and a functional mode with GNSS active
 * (AT+CFUN=1, or 31 without LTE); with LTE up it gets time only between LTE
 * activity (PSM or eDRX windows). nrf_modem_gnss_start() fails otherwise, and
 * the constructor throws its errno.
 */

#include "../../nrf9160/binding.h"
#include "../../common/event-set.h"
#include "../../common/line-ring.h"
#include "../gnss-xs.h"

#include <string.h>

#define SENTENCE_RING 1024
#define FIX_TEXT 2 * NRF_MODEM_GNSS_NMEA_MAX_LEN + 2
#define STALE_POST_MS 250

enum { EVENT_SENTENCE = 1 };

typedef struct {
	GnssCallbacks js;
	int open;
} Gnss;

static xsMachine* gMachine;
static Gnss* gReceiver;	/* the one receiver: the modem has one GNSS */
static EventSet gEvents;
static uint8_t gRingStorage[SENTENCE_RING];
static LineRing gRing;
static int gRingReady;
static char gFix[FIX_TEXT];
static size_t gFixLength;

static void deliver(void* the, void* refcon, uint8_t* message, uint16_t length);

/* ---- the modem library's interrupt context ---- */

static void onGnssEvent(int event)
{
	struct nrf_modem_gnss_nmea_data_frame frame;
	if (event != NRF_MODEM_GNSS_EVT_NMEA || !__atomic_load_n(&gRingReady, __ATOMIC_ACQUIRE))
		return;
	if (nrf_modem_gnss_read(&frame, sizeof(frame), NRF_MODEM_GNSS_DATA_NMEA) != 0)
		return;
	size_t length = strnlen(frame.nmea_str, sizeof(frame.nmea_str));
	while (length > 0 && (frame.nmea_str[length - 1] == '\r' || frame.nmea_str[length - 1] == '\n'))
		length--;
	lineRingPut(&gRing, frame.nmea_str, length);
	uint32_t now = nrfNow();
	if (eventSetRaise(&gEvents, EVENT_SENTENCE, now) || eventSetRepostDue(&gEvents, now, STALE_POST_MS))
		modMessagePostToMachineFromISR(gMachine, deliver, NULL);
}

/* ---- the XS thread ---- */

static int isType(const char* sentence, const char* type)
{
	return sentence[0] == '$' && strlen(sentence) > 6 && !memcmp(sentence + 3, type, 3);
}

static void deliver(void* machine, void* refcon, uint8_t* message, uint16_t length)
{
	xsMachine* the = machine;
	char sentence[NRF_MODEM_GNSS_NMEA_MAX_LEN + 1];
	(void)refcon;
	(void)message;
	(void)length;
	eventSetTake(&gEvents);
	while (lineRingTake(&gRing, sentence, sizeof(sentence)) >= 0) {
		size_t size = strlen(sentence);
		if (isType(sentence, "GGA"))
			gFixLength = 0;
		if (gFixLength + size + 1 > sizeof(gFix))
			gFixLength = 0;
		if (gFixLength)
			gFix[gFixLength++] = '\n';
		memcpy(gFix + gFixLength, sentence, size);
		gFixLength += size;
		if (isType(sentence, "RMC")) {
			if (gReceiver && gReceiver->open)
				gnssCall(the, &gReceiver->js, &gReceiver->js.onSentences, gFix, gFixLength);
			gFixLength = 0;
		}
	}
}

void xs_gnss_destructor(void* data)
{
	if (data)
		k_free(data);
}

static void stop(xsMachine* the, Gnss* g)
{
	if (!g->open)
		return;
	g->open = 0;
	nrf_modem_gnss_stop();
	gnssForget(the, &g->js);
	if (gReceiver == g)
		gReceiver = NULL;
}

/* constructor(onSentences, onError) */
void xs_gnss_constructor(xsMachine* the)
{
	gnssCheckCallbacks(the);
	if (gReceiver)
		nrfThrowErrno(the, ZEPHYR_EBUSY, "gnss: the receiver is open already");
	if (!gMachine) {
		eventSetInit(&gEvents);
		lineRingInit(&gRing, gRingStorage, sizeof(gRingStorage));
		__atomic_store_n(&gRingReady, 1, __ATOMIC_RELEASE);
		gMachine = the;
	}
	int32_t result = nrf_modem_gnss_event_handler_set(onGnssEvent);
	if (result == 0)
		result = nrf_modem_gnss_nmea_mask_set(NRF_MODEM_GNSS_NMEA_GGA_MASK | NRF_MODEM_GNSS_NMEA_RMC_MASK);
	if (result == 0)
		result = nrf_modem_gnss_fix_interval_set(1);
	if (result == 0)
		result = nrf_modem_gnss_start();
	if (result != 0)
		nrfThrowErrno(the, result < 0 ? (int)-result : ZEPHYR_EIO, "gnss: the modem's GNSS did not start (%ld)", (long)result);
	Gnss* g = k_malloc(sizeof(Gnss));
	if (!g) {
		nrf_modem_gnss_stop();
		nrfThrowErrno(the, ZEPHYR_ENOMEM, "gnss: out of memory");
	}
	memset(g, 0, sizeof(*g));
	xsmcSetHostData(xsThis, g);
	gnssRemember(the, &g->js);
	g->open = 1;
	gFixLength = 0;
	gReceiver = g;
}

void xs_gnss_close(xsMachine* the)
{
	Gnss* g = xsmcGetHostData(xsThis);
	if (g)
		stop(the, g);
}
