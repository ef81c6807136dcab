/*
 * adpcm.h -- a reference IMA ADPCM encoder (csdr's), OpenWebRX's audio
 * compression, for the simulator's OpenWebRX stations and the driver's
 * tests. Written apart from the driver's decoder on purpose: a wrong table
 * or step on either side then shows. Header-only.
 */
#ifndef SIM_ADPCM_H
#define SIM_ADPCM_H

struct sim_adpcm {
	int	index, pred;	/* the state a SYNC block carries */
};

static const int sim_adpcm_steps[89] = {
	7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37,
	41, 45, 50, 55, 60, 66, 73, 80, 88, 97, 107, 118, 130, 143, 157, 173,
	190, 209, 230, 253, 279, 307, 337, 371, 408, 449, 494, 544, 598, 658,
	724, 796, 876, 963, 1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066,
	2272, 2499, 2749, 3024, 3327, 3660, 4026, 4428, 4871, 5358, 5894, 6484,
	7132, 7845, 8630, 9493, 10442, 11487, 12635, 13899, 15289, 16818,
	18500, 20350, 22385, 24623, 27086, 29794, 32767 };
static const int sim_adpcm_index[16] = { -1, -1, -1, -1, 2, 4, 6, 8, -1,
    -1, -1, -1, 2, 4, 6, 8 };

/* One sample in, one nibble out; e->pred is then the decoder's
 * reconstruction of it, exactly. */
static inline int
sim_adpcm_enc(struct sim_adpcm *e, int x)
{
	int step = sim_adpcm_steps[e->index], diff = x - e->pred, n = 0, d;

	if (diff < 0) {
		n = 8;
		diff = -diff;
	}
	if (diff >= step) {
		n |= 4;
		diff -= step;
	}
	if (diff >= step >> 1) {
		n |= 2;
		diff -= step >> 1;
	}
	if (diff >= step >> 2)
		n |= 1;
	d = step >> 3;
	if (n & 4)
		d += step;
	if (n & 2)
		d += step >> 1;
	if (n & 1)
		d += step >> 2;
	e->pred += n & 8 ? -d : d;
	e->pred = e->pred > 32767 ? 32767 : e->pred < -32768 ? -32768 :
	    e->pred;
	e->index += sim_adpcm_index[n];
	e->index = e->index < 0 ? 0 : e->index > 88 ? 88 : e->index;
	return n;
}

#endif
