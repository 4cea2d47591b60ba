/* moni-train: entry point (everything else is in libtrain for the unit tests). */
#include "workloads/train/train.h"

int main(int argc, char **argv)
{
	return train_main(argc, argv);
}
